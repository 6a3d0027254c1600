"""The local metadata cache that lets a backup skip unchanged files.

For every file of the last backup of the same paths into the same
repository it remembers size, mtime, ctime and inode, and the blob ids of
the content. A file whose four values are unchanged, and whose blobs the
index still has, is taken from the cache without reading it. The cache is a
hint only: deleting it costs one full read, never correctness. It lives in
``$DRKIT_CACHE_DIR`` (default ``~/.cache/drkit``), one file per repository
and set of backup paths, replaced atomically after a snapshot is saved.

Format (zstd-compressed): ``magic "DKFC1"`` then per file
``path_len:u32le path:utf-8(surrogateescape) entry_len:u32le entry`` where
``entry = size:u64 mtime_ns:i64 ctime_ns:i64 inode:u64 blob_id:[32]u8*``.
In memory each file is one ``bytes`` entry, compared as a whole against the
packed ``stat`` of the file: a 20,000-file tree costs a few MiB, not tens.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import blake3
import zstandard

_MAGIC = b"DKFC1"
_STAT = struct.Struct("<QqqQ")
_LEN = struct.Struct("<I")
ID_SIZE = 32


def cache_root() -> Path:
    env = os.environ.get("DRKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drkit"


def pack_stat(st: os.stat_result) -> bytes:
    return _STAT.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class FileCache:
    """Entries of the previous backup (``old``) and the one being made (``new``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: dict[str, bytes] = {}
        self.new: dict[str, bytes] = {}

    @classmethod
    def for_backup(cls, repo_id: str, paths: list[str]) -> FileCache:
        key = blake3.blake3("\0".join(sorted(paths)).encode()).hexdigest()[:24]
        cache = cls(cache_root() / repo_id / f"files-{key}.bin.zst")
        cache.load()
        return cache

    def load(self) -> None:
        if self.path is None:
            return
        try:
            raw = zstandard.ZstdDecompressor().decompressobj().decompress(self.path.read_bytes())
            self.old = _decode(raw)
        except (OSError, ValueError, struct.error, zstandard.ZstdError):
            self.old = {}  # no or unreadable cache: read everything once

    def lookup(self, path: str, st: os.stat_result) -> list[bytes] | None:
        entry = self.old.get(path)
        if entry is None or entry[: _STAT.size] != pack_stat(st):
            return None
        return [entry[i : i + ID_SIZE] for i in range(_STAT.size, len(entry), ID_SIZE)]

    def remember(self, path: str, st: os.stat_result, ids: list[bytes]) -> None:
        old = self.old.get(path)
        packed = pack_stat(st)
        if old is not None and old[: _STAT.size] == packed:
            self.new[path] = old  # unchanged: share the bytes, no copy
        else:
            self.new[path] = packed + b"".join(ids)

    def save(self) -> None:
        if self.path is None:
            return
        compressor = zstandard.ZstdCompressor(level=1).compressobj()
        chunks = [compressor.compress(_MAGIC)]
        for path, entry in self.new.items():
            name = path.encode("utf-8", "surrogateescape")
            record = b"".join((_LEN.pack(len(name)), name, _LEN.pack(len(entry)), entry))
            chunks.append(compressor.compress(record))
        chunks.append(compressor.flush())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(b"".join(chunks))
            tmp.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs speed next time


def _decode(raw: bytes) -> dict[str, bytes]:
    if not raw.startswith(_MAGIC):
        raise ValueError("not a drkit file cache")
    entries: dict[str, bytes] = {}
    view, pos, end = memoryview(raw), len(_MAGIC), len(raw)
    while pos < end:
        (n,) = _LEN.unpack_from(view, pos)
        name = bytes(view[pos + 4 : pos + 4 + n]).decode("utf-8", "surrogateescape")
        pos += 4 + n
        (m,) = _LEN.unpack_from(view, pos)
        entries[name] = bytes(view[pos + 4 : pos + 4 + m])
        pos += 4 + m
    if pos != end:
        raise ValueError("truncated file cache")
    return entries
