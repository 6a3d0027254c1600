"""The file cache's format: files and directories, the old format, and no needless rewrite."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import zstandard

from drkit.repository.filecache import FileCache

FP, TREE, BLOB = b"f" * 32, b"t" * 32, b"b" * 32


def _saved(path: Path) -> tuple[FileCache, os.stat_result]:
    cache = FileCache(path)
    st = os.stat(__file__)
    cache.remember("/src/a.txt", st, [BLOB])
    cache.remember_dir("/src", FP, TREE)
    cache.save()
    return cache, st


def test_files_and_directories_come_back(tmp_path: Path) -> None:
    _, st = _saved(tmp_path / "c.zst")
    back = FileCache(tmp_path / "c.zst")
    back.load()
    assert back.lookup("/src/a.txt", st) == [BLOB]
    assert back.lookup_dir("/src", FP) == TREE
    assert back.lookup_dir("/src", b"x" * 32) is None  # another fingerprint: rebuild
    assert back.lookup("/src", st) is None  # a directory is not a file entry


def test_a_cache_of_the_files_only_format_is_still_read(tmp_path: Path) -> None:
    st = os.stat(__file__)
    entry = struct.pack("<QqqQ", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) + BLOB
    name = b"/src/a.txt"
    record = struct.pack("<I", len(name)) + name + struct.pack("<I", len(entry)) + entry
    (tmp_path / "old.zst").write_bytes(zstandard.ZstdCompressor().compress(b"DKFC1" + record))
    cache = FileCache(tmp_path / "old.zst")
    cache.load()
    assert cache.lookup("/src/a.txt", st) == [BLOB] and cache.dirs_old == {}


def test_a_damaged_directory_entry_drops_the_cache(tmp_path: Path) -> None:
    name = b"\0/src"
    record = struct.pack("<I", len(name)) + name + struct.pack("<I", 5) + b"short"
    (tmp_path / "bad.zst").write_bytes(zstandard.ZstdCompressor().compress(b"DKFC2" + record))
    cache = FileCache(tmp_path / "bad.zst")
    cache.load()
    assert cache.old == {} and cache.dirs_old == {}


def test_an_unchanged_cache_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "c.zst"
    _, st = _saved(path)
    written = os.stat(path).st_ino
    same = FileCache(path)
    same.load()
    assert same.lookup("/src/a.txt", st) == [BLOB]
    same.keep("/src/a.txt")
    same.remember_dir("/src", FP, TREE)
    same.save()
    assert os.stat(path).st_ino == written  # left as it was (a save replaces the file)
    changed = FileCache(path)
    changed.load()
    changed.keep("/src/a.txt")
    changed.remember_dir("/src", FP, b"n" * 32)
    changed.save()
    assert os.stat(path).st_ino != written
    again = FileCache(path)
    again.load()
    assert again.lookup_dir("/src", FP) == b"n" * 32
