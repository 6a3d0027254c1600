"""Archiver details that the CLI tests cannot reach deterministically."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from drkit.repository.archiver import Archiver, BackupOptions, short_gil_slices
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.memory import MemoryBackend


def _archiver(tmp_path: Path) -> tuple[Archiver, Repository]:
    repo = Repository.init(MemoryBackend(), "pw")
    destination = Destination(repo, BlobWriter(repo), FileCache(None))
    return Archiver([destination], BackupOptions([str(tmp_path)])), repo


def test_a_file_that_grew_since_stat_is_read_whole(tmp_path: Path) -> None:
    archiver, repo = _archiver(tmp_path)
    path = tmp_path / "growing.log"
    content = os.urandom(3 * 1024 * 1024)
    path.write_bytes(content)
    # stat said 10 bytes (below the minimum chunk size); the file now holds 3 MiB
    st = os.stat(path)
    then = os.stat_result((*tuple(st)[:6], 10, *tuple(st)[7:10]))
    read = archiver._chunk_file(str(path), then)
    assert read.nbytes == len(content) and not read.changed  # grew: a consistent prefix
    chunks = read.chunks
    archiver.fan.flush()
    ids = [per_destination[0] for per_destination in chunks]
    assert len(ids) > 1  # cut into chunks, not stored as one small blob
    assert b"".join(repo.load_blob(i) for i in ids) == content


def test_short_gil_slices_restores_the_interval() -> None:
    before = sys.getswitchinterval()
    with short_gil_slices(0.0005):
        assert sys.getswitchinterval() == 0.0005
    assert sys.getswitchinterval() == before
