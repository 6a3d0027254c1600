"""Crash safety: drkit killed with SIGKILL at any point leaves a sound repository.

``DRKIT_CRASH_AT=name[:n]`` makes drkit SIGKILL itself the n-th time it
passes a named point (drkit.repository.faults). After every crash:

* the process really died of SIGKILL;
* the repository loads through the Python API (index, every indexed blob,
  every snapshot's trees) and ``drkit check --read-data`` passes;
* the snapshots made before the crash restore to identical content;
* the next backup succeeds and restores correctly.

A base repository with one snapshot of a ~30 MB tree (4 MiB packs) is built
once per module and copied for each test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from drkit.repository.blob import BlobLocation
from drkit.repository.prune import plan_repository
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend
from tests.conftest import Result, Runner, make_data_tree, tree_digest

PASSWORD = "correct horse battery staple"
KILLED = (-signal.SIGKILL, 128 + signal.SIGKILL)

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------ helpers


def write_config(path: Path) -> Path:
    path.write_text("version: 1\nbackup:\n  pack_size_mib: 4\n")
    return path


def pack_names(repo_dir: Path) -> set[str]:
    return {p.name for p in (repo_dir / "data").glob("*/*") if not p.name.startswith(".")}


def snapshot_ids(repo_dir: Path) -> set[str]:
    return {p.name for p in (repo_dir / "snapshots").iterdir()}


def verify_in_python(repo_dir: Path) -> None:
    """Open the repository as drkit does and read everything the index and snapshots name."""
    repo = open_repository(repo_dir)
    stored = pack_names(repo_dir)
    for pack, blobs in repo.index.packs().items():
        assert pack in stored, f"the index names pack {pack[:12]}, which is not stored"
        data = repo.backend.load(FileKind.PACK, pack)
        for b in blobs:
            loc = BlobLocation(pack, b.type, b.offset, b.length, b.raw_length)
            repo.open_blob(b.id, loc, data[b.offset : b.offset + b.length])
    for snap in repo.snapshots():
        for path, node in repo.walk(snap.tree):
            missing = [i.hex()[:12] for i in node.content if i not in repo.index]
            assert not missing, f"snapshot {snap.short_id} {path}: blobs {missing} not indexed"


def assert_sound(drkit: Runner, repo_dir: Path) -> None:
    verify_in_python(repo_dir)
    drkit("check", "--read-data", repo=repo_dir).check()


@dataclass(frozen=True)
class Tree:
    """A source tree and the digest of its content when it was backed up."""

    path: Path
    digest: dict[str, tuple[str, int, str]]

    @classmethod
    def of(cls, path: Path) -> Tree:
        return cls(path, tree_digest(path))


def assert_restores(drkit: Runner, repo_dir: Path, snapshot: str, tree: Tree, target: Path) -> None:
    """Restore ``snapshot`` into ``target``: the tree comes back byte-identical."""
    drkit("restore", snapshot, "--target", str(target), repo=repo_dir).check()
    assert tree_digest(target / str(tree.path).lstrip("/")) == tree.digest


def assert_killed(result: Result) -> None:
    assert result.returncode in KILLED, (
        f"expected death by SIGKILL, got exit {result.returncode}\n{result.stderr}"
    )


# ------------------------------------------------------------------------------ fixtures


@dataclass
class Base:
    """The module's prepared repository and trees."""

    repo: Path
    config: Path
    tree_a: Tree  # backed up as snapshot_a
    tree_b: Tree  # tree_a without some files, plus ~16 MB more; not yet backed up
    snapshot_a: str
    forgotten: Path  # another repository: snapshot_a forgotten, snapshot_b of tree_b kept
    snapshot_b: str


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("crash-base")
    config = write_config(root / "drkit.yaml")
    tree_a = make_data_tree(root / "tree-a", seed=1, mib=30, text_every=4)
    tree_b = root / "tree-b"
    shutil.copytree(tree_a, tree_b, symlinks=True)
    for old in sorted(tree_b.glob("d0/*"))[:3]:
        old.unlink()
    make_data_tree(tree_b / "more", seed=2, mib=16, text_every=4)
    env = {
        **os.environ,
        "DRKIT_PASSWORD": PASSWORD,
        "DRKIT_CACHE_DIR": str(root / "cache"),
        "DRKIT_HOME": str(root / "home"),
        "DRKIT_KDF_MEMORY_KIB": "8192",
    }
    repo, forgotten = root / "repo", root / "forgotten"

    def drkit(target: Path, *args: str) -> None:
        argv = [sys.executable, "-m", "drkit", "--repo", str(target), *args]
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)

    drkit(repo, "init")
    drkit(repo, "--config", str(config), "backup", str(tree_a))
    (snapshot_a,) = snapshot_ids(repo)
    shutil.copytree(repo, forgotten)
    drkit(forgotten, "--config", str(config), "backup", str(tree_b))
    (snapshot_b,) = snapshot_ids(forgotten) - {snapshot_a}
    drkit(forgotten, "forget", snapshot_a)
    assert_prune_has_work(forgotten)
    return Base(repo, config, Tree.of(tree_a), Tree.of(tree_b), snapshot_a, forgotten, snapshot_b)


def open_repository(repo_dir: Path) -> Repository:
    repo = Repository.open(LocalBackend(repo_dir), PASSWORD)
    repo.load_index()
    return repo


def assert_prune_has_work(repo_dir: Path) -> None:
    """Every prune crash point is passed, and some more than once."""
    repo = open_repository(repo_dir)
    plan = plan_repository(repo, max_unused=0)
    assert plan.repack and len(plan.obsolete) >= 3 and len(repo.index_files) >= 2


@pytest.fixture
def repo_copy(base: Base, tmp_path: Path) -> Path:
    """A copy of the repository holding only snapshot_a."""
    return Path(shutil.copytree(base.repo, tmp_path / "repo"))


@pytest.fixture
def forgotten_copy(base: Base, tmp_path: Path) -> Path:
    """A copy of the repository where snapshot_a is forgotten and prune has work."""
    return Path(shutil.copytree(base.forgotten, tmp_path / "repo"))


def backup_args(base: Base, tree: Tree | Path) -> tuple[str, ...]:
    path = tree.path if isinstance(tree, Tree) else tree
    return ("--config", str(base.config), "-q", "backup", str(path))


def finish_after_crash(
    drkit: Runner, base: Base, repo: Path, tmp_path: Path, survivors: dict[str, Tree]
) -> None:
    """The checks after every crash: sound, old snapshots intact, next backup fine."""
    assert_sound(drkit, repo)
    for n, (snap, tree) in enumerate(sorted(survivors.items())):
        assert_restores(drkit, repo, snap, tree, tmp_path / f"restored-{n}")
    before = snapshot_ids(repo)
    drkit(*backup_args(base, base.tree_b), repo=repo).check()
    (new,) = snapshot_ids(repo) - before
    assert_restores(drkit, repo, new, base.tree_b, tmp_path / "restored-next")
    verify_in_python(repo)


# --------------------------------------------------------------------------------- backup


@pytest.mark.parametrize(
    "point", ["pack-saved:1", "pack-saved:3", "index-saved", "before-snapshot"]
)
def test_backup_killed_at_a_crash_point(
    drkit: Runner, base: Base, repo_copy: Path, tmp_path: Path, point: str
) -> None:
    packs_before = pack_names(repo_copy)
    crashed = drkit(*backup_args(base, base.tree_b), repo=repo_copy, env={"DRKIT_CRASH_AT": point})
    assert_killed(crashed)
    assert snapshot_ids(repo_copy) == {base.snapshot_a}
    written = len(pack_names(repo_copy) - packs_before)
    assert written >= int(point.partition(":")[2] or 1)
    finish_after_crash(drkit, base, repo_copy, tmp_path, {base.snapshot_a: base.tree_a})


def test_backup_killed_at_an_arbitrary_moment(
    drkit: Runner, drkit_env: dict[str, str], base: Base, repo_copy: Path, tmp_path: Path
) -> None:
    """SIGKILL from outside, as soon as the backup has stored its first new pack."""
    big = make_data_tree(tmp_path / "big", seed=3, mib=60, text_every=4)
    packs_before = pack_names(repo_copy)
    argv = [sys.executable, "-m", "drkit", "--repo", str(repo_copy), *backup_args(base, big)]
    proc = subprocess.Popen(argv, env=drkit_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: bool(pack_names(repo_copy) - packs_before) or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
    finally:
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in KILLED, f"backup ended on its own (exit {proc.returncode}): {stderr}"
    assert snapshot_ids(repo_copy) == {base.snapshot_a}
    finish_after_crash(drkit, base, repo_copy, tmp_path, {base.snapshot_a: base.tree_a})


def wait_until(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Poll ``condition`` without sleeping; ``limit`` only guards against a hang."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition never came true")


# --------------------------------------------------------------------------------- forget


def test_forget_killed_after_the_first_removal(
    drkit: Runner, base: Base, repo_copy: Path, tmp_path: Path
) -> None:
    drkit(*backup_args(base, base.tree_b), repo=repo_copy).check()
    snapshot_b = (snapshot_ids(repo_copy) - {base.snapshot_a}).pop()
    drkit(*backup_args(base, base.tree_a), repo=repo_copy).check()
    newest = (snapshot_ids(repo_copy) - {base.snapshot_a, snapshot_b}).pop()
    trees = {base.snapshot_a: base.tree_a, snapshot_b: base.tree_b, newest: base.tree_a}

    crashed = drkit(
        "forget",
        "--keep-last",
        "1",
        "--group-by",
        "",
        repo=repo_copy,
        env={"DRKIT_CRASH_AT": "forget-removed:1"},
    )

    assert_killed(crashed)
    left = snapshot_ids(repo_copy)
    assert newest in left and len(left) == 2  # one of the two was removed, then the kill
    finish_after_crash(drkit, base, repo_copy, tmp_path, {s: trees[s] for s in left})


# ---------------------------------------------------------------------------------- prune


@pytest.mark.parametrize(
    "point",
    [
        "prune-index-written",
        "prune-old-index-removed:1",
        "prune-old-index-removed:2",
        "prune-pack-removed:1",
        "prune-pack-removed:3",
    ],
)
def test_prune_killed_at_a_crash_point(
    drkit: Runner, base: Base, forgotten_copy: Path, tmp_path: Path, point: str
) -> None:
    crashed = drkit(
        "prune", "--max-unused", "0", repo=forgotten_copy, env={"DRKIT_CRASH_AT": point}
    )

    assert_killed(crashed)
    finish_after_crash(drkit, base, forgotten_copy, tmp_path, {base.snapshot_b: base.tree_b})
    drkit("prune", "--max-unused", "0", repo=forgotten_copy).check()  # finishes the job
    verify_in_python(forgotten_copy)
    assert not plan_repository(open_repository(forgotten_copy), 0).changes_anything
