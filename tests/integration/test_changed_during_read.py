"""A file that changes while the backup reads it: the bytes read are stored, never invented."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from drkit.repository import archiver as archiver_module
from drkit.repository.archiver import Archiver, BackupOptions, changed_while_read
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.local import LocalBackend
from tests.conftest import Runner

PASSWORD = "correct horse battery staple"


def truncate_after_first_chunk(monkeypatch: pytest.MonkeyPatch, path: Path, size: int) -> None:
    real = archiver_module.crash_point
    done = []

    def hook(name: str) -> None:
        if name == "file-chunk-saved" and not done:
            done.append(True)
            os.truncate(path, size)
        real(name)

    monkeypatch.setattr(archiver_module, "crash_point", hook)


def test_file_truncated_while_read_is_stored_as_read(
    initialized: Runner, repo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    original = random.Random(1).randbytes(12 * 1024 * 1024)
    big = src / "big.bin"
    big.write_bytes(original)
    truncate_after_first_chunk(monkeypatch, big, 100_000)

    repo = Repository.open(LocalBackend(repo_dir), PASSWORD)
    repo.load_index()
    dest = Destination(repo, BlobWriter(repo), FileCache(None))
    [snap] = Archiver([dest], BackupOptions(paths=[str(src)])).run()

    assert [e.path for e in snap.errors] == [str(big)]
    assert "changed while it was read" in snap.errors[0].error
    out = tmp_path / "out"
    done = initialized("restore", snap.short_id, "--target", str(out))
    assert done.returncode in (0, 3), done.stdout + done.stderr
    restored = (out / str(big).lstrip("/")).read_bytes()
    assert len(restored) < len(original)  # not padded back to the size lstat saw
    assert restored == original[: len(restored)]  # only bytes that were really read
    initialized("check", "--read-data").check()
    assert done.returncode in (0, 3)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ((100, 5), (100, 5), False),
        ((100, 5), (40, 6), True),  # shrank
        ((100, 5), (100, 6), True),  # rewritten in place
        ((100, 5), (150, 6), False),  # appended to: a consistent prefix was read
    ],
)
def test_changed_while_read_table(
    before: tuple[int, int], after: tuple[int, int], changed: bool
) -> None:
    assert changed_while_read(_stat(*before), _stat(*after)) is changed


def _stat(size: int, mtime_ns: int) -> os.stat_result:
    class S:
        st_size = size
        st_mtime_ns = mtime_ns

    return S()  # type: ignore[return-value]
