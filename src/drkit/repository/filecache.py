"""The local metadata cache that lets a backup skip unchanged files and trees.

For every file of the last backup of the same paths into the same
repository it remembers size, mtime, ctime and inode, and the blob ids of
the content. A file whose four values are unchanged, and whose blobs the
index still has, is taken from the cache without reading it. For every
directory it remembers the fingerprint of its entries (dirtree.py) and the
id of the tree blob made of them: a directory whose fingerprint is the same
reuses that tree blob without building or encoding a node. The cache is a
hint only: deleting it costs one full read, never correctness. It lives in
``$DRKIT_CACHE_DIR`` (default ``~/.cache/drkit``), one file per repository
and set of backup paths, replaced atomically after a snapshot is saved (and
left as it is when nothing changed).

Format (zstd-compressed): ``magic "DKFC2"`` then per entry
``path_len:u32le path:utf-8(surrogateescape) entry_len:u32le entry`` where a
file's ``entry = size:u64 mtime_ns:i64 ctime_ns:i64 inode:u64 blob_id:[32]u8*``
and a directory's path starts with a NUL byte (no real path holds one) and
its ``entry = fingerprint:[32]u8 tree_id:[32]u8``. A ``DKFC1`` cache (files
only) is still read. In memory each entry is one ``bytes``, compared as a
whole against the packed ``stat`` of the file: a 20,000-file tree costs a
few MiB, not tens.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import blake3
import zstandard

_MAGIC = b"DKFC2"
_MAGIC_FILES_ONLY = b"DKFC1"
_DIR_MARK = "\0"
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
        self.dirs_old: dict[str, bytes] = {}  # path -> fingerprint + tree id
        self.dirs_new: dict[str, bytes] = {}

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
            self.old, self.dirs_old = _decode(raw)
        except (OSError, ValueError, struct.error, zstandard.ZstdError):
            self.old, self.dirs_old = {}, {}  # no or unreadable cache: read everything once

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

    def keep(self, path: str) -> None:
        """Carry an entry :meth:`lookup` vouched for over to the new cache as it is."""
        self.new[path] = self.old[path]

    def lookup_dir(self, path: str, fingerprint: bytes) -> bytes | None:
        """The tree id stored for directory ``path`` if its fingerprint is the same."""
        entry = self.dirs_old.get(path)
        if entry is None or entry[:ID_SIZE] != fingerprint:
            return None
        return entry[ID_SIZE:]

    def knows_dir(self, path: str) -> bool:
        return path in self.dirs_old

    def remember_dir(self, path: str, fingerprint: bytes, tree_id: bytes) -> None:
        entry = fingerprint + tree_id
        old = self.dirs_old.get(path)
        self.dirs_new[path] = old if old == entry else entry

    def save(self) -> None:
        if self.path is None or self._unchanged():
            return
        compressor = zstandard.ZstdCompressor(level=1).compressobj()
        chunks = [compressor.compress(_MAGIC)]
        dirs = ((_DIR_MARK + path, entry) for path, entry in self.dirs_new.items())
        for path, entry in (*self.new.items(), *dirs):
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

    def _unchanged(self) -> bool:
        """Whether the cache file already holds exactly what this backup would write."""
        return self.path is not None and (
            self.path.exists() and self.new == self.old and self.dirs_new == self.dirs_old
        )


def _decode(raw: bytes) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The file entries and the directory entries of a cache file."""
    if not raw.startswith((_MAGIC, _MAGIC_FILES_ONLY)):
        raise ValueError("not a drkit file cache")
    entries: dict[str, bytes] = {}
    dirs: dict[str, bytes] = {}
    view, pos, end = memoryview(raw), len(_MAGIC), len(raw)
    while pos < end:
        (n,) = _LEN.unpack_from(view, pos)
        name = bytes(view[pos + 4 : pos + 4 + n]).decode("utf-8", "surrogateescape")
        pos += 4 + n
        (m,) = _LEN.unpack_from(view, pos)
        value = bytes(view[pos + 4 : pos + 4 + m])
        if name.startswith(_DIR_MARK):
            if len(value) != 2 * ID_SIZE:
                raise ValueError("damaged directory entry in the file cache")
            dirs[name[1:]] = value
        else:
            entries[name] = value
        pos += 4 + m
    if pos != end:
        raise ValueError("truncated file cache")
    return entries, dirs
