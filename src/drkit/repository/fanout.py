"""Where a backup writes: one repository, or several at once (fan-out).

A policy with three repositories reads its sources once. Each chunk is
hashed once per repository (ids are keyed per repository), compressed at
most once, and sealed and packed per repository; trees are encoded per
repository because they name those ids. Each repository gets its own
snapshot, all with the same id and time, as if one had been copied to the
others.

The chunk boundaries come from the first repository's chunker: that keeps
one read of the data, and every repository still deduplicates the backups
made this way. (A repository also backed up on its own, with its own
chunker seed, shares less with the fan-out backups; restic's copy has the
same trade-off.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from drkit.repository.blob import BlobType
from drkit.repository.filecache import FileCache
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter


@dataclass
class Destination:
    """One repository a backup writes to, with its writer and its metadata cache."""

    repo: Repository
    writer: BlobWriter
    cache: FileCache


class FanOut:
    """Stores blobs in every destination; thread-safe like the writers it drives."""

    def __init__(self, destinations: list[Destination]) -> None:
        if not destinations:
            raise ValueError("a backup needs at least one destination")
        self.destinations = destinations
        self._compressor = destinations[0].writer.compressor

    def __len__(self) -> int:
        return len(self.destinations)

    def save(self, btype: BlobType, data: bytes | memoryview) -> list[bytes]:
        """Store ``data`` wherever it is missing; return its id in each destination."""
        if len(self.destinations) == 1:
            return [self.destinations[0].writer.save(btype, data)[0]]
        ids = [d.repo.hash_id(data) for d in self.destinations]
        claimed = [(d, i) for d, i in zip(self.destinations, ids, strict=True) if d.writer.claim(i)]
        if claimed:
            stored, raw_length = self._compressor.compress(data)
            for dest, blob_id in claimed:
                sealed = dest.repo.sealer.seal(stored, blob_id)
                dest.writer.add_sealed(btype, blob_id, sealed, raw_length, len(data))
        return ids

    def lookup(self, path: str, st: os.stat_result) -> list[list[bytes]] | None:
        """Content ids per destination if every cache vouches for the file, else None."""
        found = []
        for dest in self.destinations:
            ids = dest.cache.lookup(path, st)
            if ids is None:
                return None
            index = dest.repo.index
            for blob_id in ids:
                if blob_id not in index:
                    return None
            found.append(ids)
        for dest, ids in zip(self.destinations, found, strict=True):
            dest.writer.reused.update(ids)
        return found

    def keep(self, path: str) -> None:
        """Carry a file :meth:`lookup` vouched for over to every new cache as it is."""
        for dest in self.destinations:
            dest.cache.keep(path)

    def knows_dir(self, path: str) -> bool:
        """Whether every cache holds a tree for directory ``path`` (else none is reused)."""
        return all(dest.cache.knows_dir(path) for dest in self.destinations)

    def lookup_dir(self, path: str, fingerprints: list[bytes]) -> list[bytes] | None:
        """Tree ids per destination if every cache vouches for the directory, else None.

        A tree is reused only while the index still has it; its subtrees and file
        contents were each vouched for the same way on the walk down.
        """
        found = []
        for dest, fp in zip(self.destinations, fingerprints, strict=True):
            tree_id = dest.cache.lookup_dir(path, fp)
            if tree_id is None or tree_id not in dest.repo.index:
                return None
            found.append(tree_id)
        for dest, tree_id in zip(self.destinations, found, strict=True):
            dest.writer.reused.add(tree_id)
        return found

    def remember_dir(self, path: str, fingerprints: list[bytes], tree_ids: list[bytes]) -> None:
        for dest, fp, tree_id in zip(self.destinations, fingerprints, tree_ids, strict=True):
            dest.cache.remember_dir(path, fp, tree_id)

    def seen_before(self, path: str) -> bool:
        return path in self.destinations[0].cache.old

    def remember(self, path: str, st: os.stat_result, contents: list[list[bytes]]) -> None:
        for dest, ids in zip(self.destinations, contents, strict=True):
            dest.cache.remember(path, st, ids)

    def flush(self) -> None:
        for dest in self.destinations:
            dest.writer.flush()

    def confirm_reused(self) -> None:
        """Raise unless every destination still holds the blobs the backup reused."""
        for dest in self.destinations:
            dest.writer.confirm_reused()

    def abort(self) -> None:
        for dest in self.destinations:
            dest.writer.abort()

    def save_caches(self) -> None:
        for dest in self.destinations:
            dest.cache.save()
