"""Concurrency: parallel backups, prune against a running backup, stale and live locks.

A backup is paused deterministically with SIGSTOP once its lock object
exists, so "prune while a backup runs" does not depend on timing: the
stopped backup's process is alive and its lock fresh, i.e. the lock is live.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drkit.repository.locks import LOCK_AAD, RepoLock, read_locks
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend
from tests.conftest import Runner, make_data_tree, tree_digest

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------ helpers


def open_repository(repo_dir: Path) -> Repository:
    return Repository.open(LocalBackend(repo_dir), PASSWORD)


def lock_names(repo_dir: Path) -> set[str]:
    return {p.name for p in (repo_dir / "locks").iterdir() if not p.name.startswith(".")}


def snapshot_ids(repo_dir: Path) -> set[str]:
    return {p.name for p in (repo_dir / "snapshots").iterdir()}


def wait_until(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Poll ``condition`` without sleeping; ``limit`` only guards against a hang."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition never came true")


def spawn(env: dict[str, str], repo_dir: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "drkit", "--repo", str(repo_dir), *args]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def assert_restores(
    drkit: Runner, repo_dir: Path, snapshot: str, source: Path, target: Path
) -> None:
    drkit("restore", snapshot, "--target", str(target), repo=repo_dir).check()
    assert tree_digest(target / str(source).lstrip("/")) == tree_digest(source)


def data_files(repo_dir: Path) -> set[str]:
    """Every file under data/, staged (temporary) ones included."""
    return {str(p.relative_to(repo_dir)) for p in (repo_dir / "data").rglob("*") if p.is_file()}


@contextmanager
def paused_backup(env: dict[str, str], repo_dir: Path, tree: Path, config: Path) -> Iterator[str]:
    """A backup stopped while it holds its lock; yields the lock's name. Resumed on exit.

    It is stopped once it writes pack data, i.e. after it took its lock: stopped
    inside taking it, it could meet prune's short-lived lock on resuming and back off.
    """
    locks_before, data_before = lock_names(repo_dir), data_files(repo_dir)
    proc = spawn(env, repo_dir, "--config", str(config), "-q", "backup", str(tree))
    try:
        wait_until(lambda: bool(data_files(repo_dir) - data_before) or proc.poll() is not None)
        proc.send_signal(signal.SIGSTOP)
        held = lock_names(repo_dir) - locks_before
        assert proc.poll() is None and len(held) == 1, "the backup ended before it was paused"
        yield held.pop()
    finally:
        proc.send_signal(signal.SIGCONT)
        code, _, err = finish(proc)
    assert code == 0, err


@pytest.fixture
def small_packs(tmp_path: Path) -> Path:
    """Settings with 4 MiB packs, so a backup writes pack data early."""
    path = tmp_path / "drkit.yaml"
    path.write_text("version: 1\nbackup:\n  pack_size_mib: 4\n")
    return path


def write_stale_lock(
    repo_dir: Path, *, pid: int | None = None, started: int | None = None, host: str = ""
) -> str:
    """An exclusive lock naming this host and a process that has exited (by default)."""
    if pid is None:
        dead = subprocess.Popen(["true"])
        dead.wait()
        pid = dead.pid
    repo = open_repository(repo_dir)
    doc = {
        "exclusive": True,
        "hostname": host or socket.gethostname(),
        "pid": pid,
        "username": "ghost",
        "time": datetime.now(UTC).isoformat(),
        "operation": "backup",
        "started": started,
    }
    name = os.urandom(32).hex()
    repo.backend.save(FileKind.LOCK, name, [repo.sealer.seal(json.dumps(doc).encode(), LOCK_AAD)])
    return name


# -------------------------------------------------------------------------------- tests


def test_two_backups_at_once_both_succeed(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path, tmp_path: Path
) -> None:
    first = make_data_tree(tmp_path / "first", seed=1, mib=15)
    second = make_data_tree(tmp_path / "second", seed=2, mib=15)
    shared = first / "d0" / "blob1-0.bin"
    shutil.copy(shared, second / "shared.bin")  # both may store it: duplicates are fine

    procs = [spawn(drkit_env, repo_dir, "-q", "backup", "--json", str(t)) for t in (first, second)]
    results = [finish(p) for p in procs]

    for code, _, err in results:
        assert code == 0, err
    ids = [json.loads(out)["snapshot"] for _, out, _ in results]
    assert snapshot_ids(repo_dir) == set(ids)
    for n, (snap, tree) in enumerate(zip(ids, (first, second), strict=True)):
        assert_restores(initialized, repo_dir, snap, tree, tmp_path / f"restored-{n}")
    initialized("check", "--read-data").check()
    initialized("prune").check()  # collapses any duplicate copies
    initialized("check", "--read-data").check()
    assert_restores(initialized, repo_dir, ids[1], second, tmp_path / "restored-after-prune")


def test_prune_refuses_while_a_backup_holds_a_lock(
    initialized: Runner,
    drkit_env: dict[str, str],
    repo_dir: Path,
    tmp_path: Path,
    small_packs: Path,
) -> None:
    tree = make_data_tree(tmp_path / "big", seed=3, mib=60)

    with paused_backup(drkit_env, repo_dir, tree, small_packs) as backup_lock:
        refused = initialized("prune")
        assert refused.returncode == 11, refused.stderr
        assert "locked" in refused.stderr.lower()
        assert "--wait-lock" in refused.stderr
        assert lock_names(repo_dir) == {backup_lock}  # prune took its own lock back

    (snap,) = snapshot_ids(repo_dir)
    assert_restores(initialized, repo_dir, snap, tree, tmp_path / "restored")


def test_prune_with_wait_lock_waits_for_the_backup(
    initialized: Runner,
    drkit_env: dict[str, str],
    repo_dir: Path,
    tmp_path: Path,
    small_packs: Path,
) -> None:
    old = make_data_tree(tmp_path / "old", seed=4, mib=8)
    initialized("-q", "backup", str(old)).check()
    initialized("forget", "latest").check()  # gives prune something to delete
    tree = make_data_tree(tmp_path / "big", seed=5, mib=60)

    with paused_backup(drkit_env, repo_dir, tree, small_packs) as backup_lock:
        prune = spawn(drkit_env, repo_dir, "prune", "--wait-lock", "120", "--json")
        # prune's attempts show up as short-lived locks of its own; see one, then resume
        wait_until(lambda: bool(lock_names(repo_dir) - {backup_lock}) or prune.poll() is not None)
        assert prune.poll() is None, "prune ended while the backup held its lock"

    code, out, err = finish(prune)
    assert code == 0, err
    assert json.loads(out)["packs"]["deleted"] > 0
    (snap,) = snapshot_ids(repo_dir)
    assert_restores(initialized, repo_dir, snap, tree, tmp_path / "restored")
    initialized("check", "--read-data").check()


def test_stale_locks_do_not_block_and_unlock_keeps_live_ones(
    initialized: Runner, repo_dir: Path, sample_tree: Path
) -> None:
    stale = write_stale_lock(repo_dir)

    initialized("-q", "backup", str(sample_tree)).check()
    initialized("prune").check()  # even an exclusive operation ignores a stale lock
    assert stale not in lock_names(repo_dir)  # and removes it as it meets it

    repo = open_repository(repo_dir)
    with RepoLock(repo, exclusive=False, operation="test") as live:
        write_stale_lock(repo_dir)
        unlocked = initialized("unlock").check()
        assert live.lock_id is not None
        assert {lock.id for lock in read_locks(repo)} == {live.lock_id}
        assert "removed stale" in unlocked.stdout and "kept live" in unlocked.stdout
    assert lock_names(repo_dir) == set()


def test_lock_of_a_reused_pid_is_stale(initialized: Runner, repo_dir: Path) -> None:
    """The pid is alive (this test's own), but it started at another time than the lock says."""
    from drkit.processes import process_start_ticks

    mine = process_start_ticks(os.getpid())
    assert mine is not None
    reused = write_stale_lock(repo_dir, pid=os.getpid(), started=mine + 1)
    live = write_stale_lock(repo_dir, pid=os.getpid(), started=mine)
    done = initialized("unlock").check()
    assert reused not in lock_names(repo_dir) and live in lock_names(repo_dir)
    assert "removed stale" in done.stdout and "kept live" in done.stdout


def test_unlock_force_removes_a_live_lock_from_another_host(
    initialized: Runner, repo_dir: Path
) -> None:
    other = write_stale_lock(repo_dir, pid=1, host="crashed-host.example")
    blocked = initialized("prune")
    assert blocked.returncode == 11  # fresh and from another host: it counts as live
    kept = initialized("unlock").check()
    assert other in lock_names(repo_dir) and "unlock --force" in kept.stdout
    forced = initialized("unlock", "--force").check()
    assert lock_names(repo_dir) == set()
    assert "may be live" in forced.stderr
    initialized("prune").check()


def test_check_reports_staged_pack_files(initialized: Runner, repo_dir: Path) -> None:
    (repo_dir / "data" / ".tmp-pack-leftover").write_bytes(b"x" * 1000)
    done = initialized("check").check()  # a warning, not damage
    assert "1 staged pack file(s) (1000 bytes)" in done.stdout
    initialized("prune").check()
    assert not (repo_dir / "data" / ".tmp-pack-leftover").exists()
    assert "staged pack" not in initialized("check").check().stdout
