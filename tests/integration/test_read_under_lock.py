"""What an operation knows of the repository is read under its lock.

A prune is frozen (SIGSTOP, from a fault hook) while it holds its exclusive
lock, or a backup or copy is frozen just before it asks for its lock; the
other operation then runs, and the frozen one is resumed. The snapshot that
comes out must name only blobs that exist: `check --read-data` passes and the
restore is identical to the source.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.errors import IntegrityError
from drkit.repository.blob import BlobType
from drkit.repository.crypto import content_hash
from drkit.repository.index import encode_index
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend
from tests.conftest import Runner, make_data_tree, policy_settings, tree_digest

pytestmark = pytest.mark.slow


def wait_until(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Poll ``condition``; ``limit`` only guards against a hang."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition never came true")
        time.sleep(0.02)


def stopped(proc: subprocess.Popen[str]) -> bool:
    stat = Path(f"/proc/{proc.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "drkit", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    return out


def assert_intact(drkit: Runner, repo: Path, src: Path, target: Path, **kw: object) -> None:
    drkit("check", "--read-data", repo=repo, **kw).check()
    drkit("restore", "latest", "--target", str(target), repo=repo, **kw).check()
    assert tree_digest(target / str(src).lstrip("/")) == tree_digest(src)


def test_backup_waiting_behind_prune_does_not_reuse_pruned_data(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path, tmp_path: Path
) -> None:
    src = make_data_tree(tmp_path / "src", seed=3, mib=4)
    first = json.loads(initialized("backup", str(src), "--json").check().stdout)
    prune = spawn(
        {**drkit_env, "DRKIT_PAUSE_AT": "lock-acquired:stop"},
        "--repo", str(repo_dir), "forget", first["short_id"], "--prune",
    )  # fmt: skip
    wait_until(lambda: stopped(prune))  # frozen while it holds its exclusive lock
    mark = tmp_path / "backup-waits"
    backup = spawn(
        {**drkit_env, "DRKIT_MARK_AT": f"lock-wait:{mark}"},
        "--repo", str(repo_dir), "backup", str(src), "--wait-lock", "300",
    )  # fmt: skip
    wait_until(mark.exists)  # the backup has met the prune's lock and waits
    os.kill(prune.pid, signal.SIGCONT)
    finish(prune)
    finish(backup)
    assert_intact(initialized, repo_dir, src, tmp_path / "out")


def test_backup_frozen_before_its_lock_reads_the_index_after_it(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path, tmp_path: Path
) -> None:
    src = make_data_tree(tmp_path / "src", seed=4, mib=4)
    first = json.loads(initialized("backup", str(src), "--json").check().stdout)
    backup = spawn(
        {**drkit_env, "DRKIT_PAUSE_AT": "lock-acquire:stop"},
        "--repo", str(repo_dir), "backup", str(src),
    )  # fmt: skip
    wait_until(lambda: stopped(backup))  # opened the repository, not yet locked
    initialized("forget", first["short_id"], "--prune").check()
    os.kill(backup.pid, signal.SIGCONT)
    finish(backup)
    assert_intact(initialized, repo_dir, src, tmp_path / "out")


def test_fanout_backup_frozen_before_its_locks(
    drkit: Runner, drkit_env: dict[str, str], tmp_path: Path
) -> None:
    src = make_data_tree(tmp_path / "src", seed=5, mib=3)
    cfg = policy_settings(tmp_path, src)
    env = {**drkit_env, "DRKIT_CONFIG": str(cfg)}
    env.pop("DRKIT_PASSWORD")
    for name in ("nas", "cloud"):
        drkit("init", repo=tmp_path / name, env={"DRKIT_PASSWORD": f"{name}-pass"}).check()
    drkit("backup", "--policy", "app", env={"DRKIT_CONFIG": str(cfg)}).check()
    backup = spawn({**env, "DRKIT_PAUSE_AT": "lock-acquire:stop"}, "backup", "--policy", "app")
    wait_until(lambda: stopped(backup))
    cloud = {"DRKIT_PASSWORD": "cloud-pass"}
    for snap in json.loads(
        drkit("snapshots", "--json", repo=tmp_path / "cloud", env=cloud).check().stdout
    ):
        drkit("forget", snap["short_id"], "--prune", repo=tmp_path / "cloud", env=cloud).check()
    os.kill(backup.pid, signal.SIGCONT)
    finish(backup)
    assert_intact(drkit, tmp_path / "cloud", src, tmp_path / "out", env=cloud)


def test_copy_frozen_before_its_locks_reads_the_indexes_after_them(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path, tmp_path: Path
) -> None:
    src = make_data_tree(tmp_path / "src", seed=6, mib=3)
    initialized("backup", str(src)).check()
    other = tmp_path / "other"
    initialized("init", repo=other).check()
    initialized("copy", "--to", str(other)).check()
    copied = json.loads(initialized("snapshots", "--json", repo=other).check().stdout)
    copy = spawn(
        {**drkit_env, "DRKIT_PAUSE_AT": "lock-acquire:stop"},
        "--repo", str(repo_dir), "copy", "--to", str(other),
    )  # fmt: skip
    wait_until(lambda: stopped(copy))
    initialized("forget", copied[0]["short_id"], "--prune", repo=other).check()
    os.kill(copy.pid, signal.SIGCONT)
    finish(copy)
    assert_intact(initialized, other, src, tmp_path / "out")


def test_snapshot_refused_when_reused_blobs_vanished(
    initialized: Runner, repo_dir: Path, tmp_path: Path
) -> None:
    """A prune that never saw the lock (removed by hand): the writer notices the loss."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x" * 5000)
    initialized("backup", str(src)).check()
    repo = Repository.open(LocalBackend(repo_dir), "correct horse battery staple")
    repo.load_index()
    writer = BlobWriter(repo)
    _, added = writer.save(BlobType.DATA, b"x" * 5000)
    assert not added  # reused from the index
    writer.confirm_reused()  # nothing vanished yet
    initialized("forget", "latest", "--prune").check()
    with pytest.raises(IntegrityError, match="removed from the repository while it ran"):
        writer.confirm_reused()


def test_check_says_data_is_lost_when_no_pack_holds_it(
    initialized: Runner, repo_dir: Path, tmp_path: Path
) -> None:
    """A snapshot naming blobs that a prune removed (pack and index entry): no repair hint."""
    src = make_data_tree(tmp_path / "src", seed=7, mib=1)
    initialized("backup", str(src)).check()
    repo = Repository.open(LocalBackend(repo_dir), "correct horse battery staple")
    repo.load_index()
    packs = repo.index.packs()
    data = {p for p, blobs in packs.items() if blobs[0].type is BlobType.DATA}
    kept = [(p, blobs) for p, blobs in packs.items() if p not in data]
    sealed = encode_index(kept, repo.sealer)
    repo.backend.save(FileKind.INDEX, content_hash(sealed), [sealed])
    for name in repo.index_files:
        repo.backend.remove(FileKind.INDEX, name)
    for pack in data:
        repo.backend.remove(FileKind.PACK, pack)
    done = initialized("check")
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "is not in the index" in text
    assert "their data is lost" in text
    assert "repair index` rebuilds" not in text
