"""The local metadata cache that lets a backup skip unchanged files.

For every file of the last backup of the same paths into the same
repository it remembers size, mtime, ctime and inode, and the blob ids of
the content. A file whose four values are unchanged, and whose blobs the
index still has, is taken from the cache without reading it. The cache is a
hint only: deleting it costs one full read, never correctness. It lives in
``$DRKIT_CACHE_DIR`` (default ``~/.cache/drkit``), one file per repository
and set of backup paths, replaced atomically after a snapshot is saved.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import blake3
import zstandard

CacheEntry = tuple[int, int, int, int, list[bytes]]  # size, mtime_ns, ctime_ns, inode, ids


def cache_root() -> Path:
    env = os.environ.get("DRKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drkit"


class FileCache:
    """Entries of the previous backup (``old``) and the one being made (``new``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: dict[str, CacheEntry] = {}
        self.new: dict[str, CacheEntry] = {}

    @classmethod
    def for_backup(cls, repo_id: str, paths: list[str]) -> FileCache:
        key = blake3.blake3("\0".join(sorted(paths)).encode()).hexdigest()[:24]
        cache = cls(cache_root() / repo_id / f"files-{key}.json.zst")
        cache.load()
        return cache

    def load(self) -> None:
        if self.path is None:
            return
        try:
            raw = zstandard.ZstdDecompressor().decompress(self.path.read_bytes())
            doc = json.loads(raw)
        except (OSError, ValueError, zstandard.ZstdError):
            return  # no or unreadable cache: read everything once
        self.old = {
            p: (e[0], e[1], e[2], e[3], [bytes.fromhex(i) for i in e[4]]) for p, e in doc.items()
        }

    def lookup(self, path: str, st: os.stat_result) -> list[bytes] | None:
        entry = self.old.get(path)
        if entry is None:
            return None
        size, mtime, ctime, ino, ids = entry
        if (size, mtime, ctime, ino) != (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino):
            return None
        return ids

    def remember(self, path: str, st: os.stat_result, ids: list[bytes]) -> None:
        self.new[path] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, ids)

    def save(self) -> None:
        if self.path is None:
            return
        doc = {p: [e[0], e[1], e[2], e[3], [i.hex() for i in e[4]]] for p, e in self.new.items()}
        data = zstandard.ZstdCompressor(level=1).compress(json.dumps(doc).encode())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs speed next time
