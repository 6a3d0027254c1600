"""A restore restores all it can, lists what it could not and why, and exits 3."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drkit.repository.blob import BlobType
from drkit.repository.repo import Repository
from drkit.storage.local import LocalBackend
from tests.conftest import Runner, mounted_tmpfs


def tree_packs(repo_dir: Path) -> set[str]:
    repo = Repository.open(LocalBackend(repo_dir), "correct horse battery staple")
    repo.load_index()
    return {p for p, blobs in repo.index.packs().items() if blobs[0].type is BlobType.TREE}


def pack_path(repo_dir: Path, pack: str) -> Path:
    return next(p for p in (repo_dir / "data").rglob(pack))


@pytest.mark.parametrize("how", ["missing", "damaged"])
def test_lost_tree_pack_restores_the_rest(
    initialized: Runner, repo_dir: Path, tmp_path: Path, how: str
) -> None:
    src = tmp_path / "src"
    (src / "keep" / "sub").mkdir(parents=True)
    for i in range(5):
        (src / "keep" / "sub" / f"old{i}.txt").write_text(f"old {i}\n")
    initialized("backup", str(src)).check()
    old_trees = tree_packs(repo_dir)
    for i in range(5):  # new top-level files: new root trees, the tree of keep/ reused
        (src / f"new{i}.txt").write_text(f"new {i}\n")
    initialized("backup", str(src)).check()
    assert tree_packs(repo_dir) - old_trees, "the second backup wrote its own tree pack"
    for pack in old_trees:
        path = pack_path(repo_dir, pack)
        if how == "missing":
            path.unlink()
        else:
            path.chmod(0o644)
            path.write_bytes(bytes(b ^ 0xFF for b in path.read_bytes()))  # every blob

    out = tmp_path / "out"
    done = initialized("restore", "latest", "--target", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    base = out / str(src).lstrip("/")
    assert sorted(p.name for p in base.glob("new*.txt")) == [f"new{i}.txt" for i in range(5)]
    assert (base / "new3.txt").read_text() == "new 3\n"
    rel = f"{src}/keep"
    assert f"not restored: {rel}: directory listing {how}" in done.stdout
    assert "check --read-data" in done.stderr


def test_restore_onto_full_disk_says_so(initialized: Runner, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    initialized("backup", str(src)).check()
    with mounted_tmpfs(tmp_path / "small", "2m") as small:
        done = initialized("restore", "latest", "--target", str(small / "out"))
    assert done.returncode == 3, done.stderr
    assert "the restore target is full" in done.stderr
    assert "check --read-data" not in done.stderr
