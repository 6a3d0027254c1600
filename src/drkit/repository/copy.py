"""Copying snapshots between repositories with different keys and backends.

Blob ids are keyed per repository, so a blob's id in the destination is
only known from its plaintext: every blob is read from the source,
verified, given its destination id, and stored there unless already
present. Trees are rewritten with the new ids, bottom up. The source data
is never read again from the original files.

A snapshot keeps its identity: the same id, time, paths, host and tags in
every repository it is copied to. Copying a snapshot the destination
already has is a no-op.

Which source blob became which destination blob is remembered in a local
cache (``$DRKIT_CACHE_DIR/copy-SRC-DST.bin``), so the next copy between
the same repositories skips the blobs it already moved without reading them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from pathlib import Path

from drkit.repository.blob import BlobType
from drkit.repository.filecache import cache_root
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node, decode_tree, encode_tree
from drkit.repository.writer import BlobWriter

_PAIR = struct.Struct("32s32s")


@dataclass
class CopyStats:
    snapshots: int = 0
    blobs_read: int = 0
    blobs_added: int = 0
    bytes_added: int = 0


class IdMap:
    """Source blob id -> destination blob id, persisted between runs."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[bytes, bytes] = {}
        self._new: list[tuple[bytes, bytes]] = []
        if path is not None and path.exists():
            raw = path.read_bytes()
            usable = len(raw) - len(raw) % _PAIR.size  # a torn last record is dropped
            self.known = dict(_PAIR.iter_unpack(raw[:usable]))

    @classmethod
    def for_pair(cls, src: Repository, dst: Repository) -> IdMap:
        return cls(cache_root() / f"copy-{src.config.id[:16]}-{dst.config.id[:16]}.bin")

    def add(self, src_id: bytes, dst_id: bytes) -> None:
        self.known[src_id] = dst_id
        self._new.append((src_id, dst_id))

    def save(self) -> None:
        if self.path is None or not self._new:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as fh:
                fh.write(b"".join(_PAIR.pack(a, b) for a, b in self._new))
        except OSError:
            pass  # only speed is lost
        self._new = []


class SnapshotCopier:
    """Copies snapshots from ``src`` into ``dst`` through one writer."""

    def __init__(
        self,
        src: Repository,
        dst: Repository,
        writer: BlobWriter,
        ids: IdMap | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.src, self.dst, self.writer = src, dst, writer
        self.ids = ids or IdMap(None)
        self.progress = progress or Progress()
        self.stats = CopyStats()
        self._trees: dict[bytes, bytes] = {}

    def missing(self, snapshots: list[Snapshot]) -> list[Snapshot]:
        """The snapshots the destination does not have yet (by identity)."""
        have = {s.id for s in self.dst.snapshots(on_damaged=lambda *_: None)}
        return [s for s in snapshots if s.id not in have]

    def copy(self, snapshots: list[Snapshot]) -> list[Snapshot]:
        """Copy each snapshot; blobs first, then one index flush, then the snapshots."""
        copied = [replace(s, tree=self._tree(s.tree)) for s in snapshots]
        self.writer.flush()
        self.writer.confirm_reused()
        for snap in copied:
            self.dst.save_snapshot(snap)
            self.stats.snapshots += 1
        self.ids.save()
        self.stats.blobs_added = self.writer.stats.data_blobs + self.writer.stats.tree_blobs
        self.stats.bytes_added = self.writer.stats.stored_bytes
        return copied

    def _tree(self, src_id: bytes) -> bytes:
        done = self._trees.get(src_id)
        if done is not None:
            return done
        nodes = [self._node(n) for n in decode_tree(self.src.load_blob(src_id))]
        dst_id, _ = self.writer.save(BlobType.TREE, encode_tree(nodes))
        self._trees[src_id] = dst_id
        return dst_id

    def _node(self, node: Node) -> Node:
        if node.subtree is not None:
            node.subtree = self._tree(node.subtree)
        if node.content:
            node.content = [self._blob(b) for b in node.content]
        return node

    def _blob(self, src_id: bytes) -> bytes:
        known = self.ids.known.get(src_id)
        if known is not None and known in self.dst.index:
            self.writer.reused.add(known)
            return known
        data = self.src.load_blob(src_id)
        self.stats.blobs_read += 1
        self.progress.advance(nbytes=len(data))
        dst_id, _ = self.writer.save(BlobType.DATA, data)
        self.ids.add(src_id, dst_id)
        return dst_id
