"""A restore written a window at a time gives the same tree as one written at once.

The window is shrunk to 3 files, so every directory, hard link and multi-blob
file straddles windows: hard links whose first name was written windows
earlier, directories closed in a later window than their files (their mtime
must survive), a file split over packs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drkit.repository import restorer
from drkit.repository.repo import Repository
from drkit.storage.local import LocalBackend
from tests.conftest import Runner, tree_digest

PASSWORD = "correct horse battery staple"
DIR_MTIME = 1_500_000_000_000_000_000


def _tree(src: Path) -> None:
    for d in range(4):
        folder = src / f"d{d}" / "inner"
        folder.mkdir(parents=True)
        for f in range(5):
            (folder / f"f{f}.txt").write_text(f"dir {d} file {f}\n" * (f + 1))
        (src / f"d{d}" / "top.txt").write_text(f"top {d}\n")
    os.link(src / "d0" / "inner" / "f0.txt", src / "d3" / "inner" / "again.txt")
    (src / "d2" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # several blobs
    (src / "d1" / "empty").write_bytes(b"")
    for folder in [*src.rglob("*")]:
        if folder.is_dir():
            os.utime(folder, ns=(DIR_MTIME, DIR_MTIME))


def test_windowed_restore_matches_the_source(
    initialized: Runner, repo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    _tree(src)
    initialized("backup", str(src)).check()
    monkeypatch.setattr(restorer, "WINDOW_FILES", 3)
    repo = Repository.open(LocalBackend(repo_dir), PASSWORD)
    repo.load_index()
    snapshot = repo.snapshots()[-1]
    target = tmp_path / "out"
    result = restorer.Restorer(repo, snapshot, str(target)).run()
    assert result.failed == {}
    root = target / str(src).lstrip("/")
    assert tree_digest(root) == tree_digest(src)
    again = root / "d3" / "inner" / "again.txt"
    assert again.stat().st_ino == (root / "d0" / "inner" / "f0.txt").stat().st_ino
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir() and folder != root:
            assert folder.stat().st_mtime_ns == DIR_MTIME, folder
    assert result.files == 4 * 6 + 3  # 24 + hard link + big + empty


def test_window_limits_the_planned_files(
    initialized: Runner, repo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No window holds more than WINDOW_FILES planned files (the memory bound)."""
    src = tmp_path / "src"
    _tree(src)
    initialized("backup", str(src)).check()
    monkeypatch.setattr(restorer, "WINDOW_FILES", 3)
    sizes: list[int] = []
    original = restorer.Restorer._write_window

    def spy(self: restorer.Restorer) -> None:
        sizes.append(len(self._files) + len(self._links))
        original(self)

    monkeypatch.setattr(restorer.Restorer, "_write_window", spy)
    repo = Repository.open(LocalBackend(repo_dir), PASSWORD)
    repo.load_index()
    snapshot = repo.snapshots()[-1]
    restorer.Restorer(repo, snapshot, str(tmp_path / "out")).run()
    assert max(sizes) <= 3 and len(sizes) >= 9
