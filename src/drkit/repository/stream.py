"""Backing up byte streams (database dumps, base backups, WAL) instead of files.

A :class:`StreamArchiver` stores one or more named streams, each at an
absolute path such as ``/postgres/app.dump``, into every destination of a
fan-out, and saves one snapshot per destination with the same id and time,
exactly as the file :class:`~drkit.repository.archiver.Archiver` does. The
result is an ordinary snapshot: ``drkit ls``, ``restore``, ``check``,
``copy`` and ``forget`` treat it like any other, and :func:`open_stream`
reads a stream back.

Streams are never held whole: blocks from the producer go through FastCDC's
stream chunker (a buffer of about twice the maximum chunk size), each chunk
is copied out and handed to a small pool that hashes, compresses, seals and
packs it, and at most ``MAX_IN_FLIGHT`` chunks wait there. So memory is
bounded by a few chunk sizes whatever the stream's length, and the producer
(``pg_dump``, ``redis-cli``...), the chunker and the compressor overlap.

The caller holds the repository locks (shared, as for a backup) and calls
:meth:`StreamArchiver.commit` only once every stream ended well; on any
failure it calls :meth:`StreamArchiver.abort` (or uses the archiver as a
context manager, which aborts when the block raises). Nothing is then
saved: packs already stored are unreferenced and ``drkit prune`` removes
them, as after an interrupted file backup.
"""

from __future__ import annotations

import getpass
import os
import socket
import stat
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType

import pyfastcdc

from drkit import __version__
from drkit.errors import UsageError
from drkit.repository.blob import BlobType
from drkit.repository.fanout import Destination, FanOut
from drkit.repository.faults import crash_point
from drkit.repository.metadata import group_name, user_name
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, Summary
from drkit.repository.tree import Node, NodeType, encode_tree

MAX_IN_FLIGHT = 6  # chunks queued for storing (each at most max_size bytes)
WORKERS = 2  # threads that hash, compress and seal; the machine's two cores
READ_AHEAD = 4  # blobs fetched ahead of the consumer by open_stream


@dataclass
class _Dir:
    """A directory of the snapshot's tree being built: sub-directories and streams."""

    children: dict[str, _Dir | _Stream] = field(default_factory=dict)


@dataclass
class _Stream:
    node: Node
    contents: list[list[bytes]]  # per destination: the stream's blob ids


class _BlockReader:
    """A file-like ``readinto`` over an iterable of byte blocks (FastCDC's input)."""

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks = iter(blocks)
        self._pending = memoryview(b"")

    def readinto(self, buf: memoryview) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block).cast("B")
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class StreamArchiver:
    """Stores named byte streams into each destination; one snapshot per destination.

    ``paths`` are the snapshot's recorded paths (what a later backup of the
    same source looks for as its parent); ``meta`` is the source's own
    description (``source.type`` and so on), kept in the snapshot. ``add``
    may be called several times, also from several threads.
    """

    def __init__(
        self,
        destinations: list[Destination],
        *,
        paths: list[str],
        tags: list[str],
        host: str | None = None,
        meta: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.fan = FanOut(destinations)
        self.paths = list(paths)
        self.tags = sorted(set(tags))
        self.host = host or socket.gethostname()
        self.meta = dict(meta or {})
        self.progress = progress or Progress()
        self.summary = Summary()
        self._root = _Dir()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="drkit-stream")
        self._started = time.monotonic()
        self._state = "open"  # open -> committed | aborted
        c = destinations[0].repo.config.chunker
        self._chunker_args = (c.avg_size, c.min_size, c.max_size, c.seed)
        self.progress.start("backup")

    # -- adding streams --------------------------------------------------------
    def add(
        self,
        path: str,
        chunks: Iterable[bytes],
        *,
        mode: int = 0o600,
        mtime: datetime | None = None,
    ) -> int:
        """Store the stream ``chunks`` at absolute ``path``; return its length in bytes.

        An exception raised by ``chunks`` (the producer failed) propagates
        unchanged and the stream is not recorded; the caller then aborts.
        """
        self._require_open()
        parent, name = self._place(path)
        ids, size = self._store(chunks)
        when = mtime or datetime.now(UTC)
        node = Node(
            name,
            NodeType.FILE,
            mode=stat.S_IMODE(mode),
            uid=os.geteuid(),
            gid=os.getegid(),
            user=user_name(os.geteuid()),
            group=group_name(os.getegid()),
            mtime_ns=int(when.timestamp() * 1_000_000_000),
            size=size,
        )
        contents = [[chunk[i] for chunk in ids] for i in range(len(self.fan))]
        with self._lock:
            if name in parent.children:
                raise UsageError(f"the stream {path} was added twice")
            parent.children[name] = _Stream(node, contents)
            self.summary.files_new += 1
            self.summary.files_total += 1
            self.summary.bytes_total += size
        self.progress.advance(files=1)
        return size

    def _place(self, path: str) -> tuple[_Dir, str]:
        """The directory that will hold ``path`` (made as needed), and the stream's name."""
        parts = [p for p in path.split("/") if p]
        if not path.startswith("/") or not parts or any(p in (".", "..") for p in parts):
            raise UsageError(f"stream path {path!r} must be absolute and normalised")
        node = self._root
        with self._lock:
            for part in parts[:-1]:
                child = node.children.setdefault(part, _Dir())
                if not isinstance(child, _Dir):
                    raise UsageError(f"{path}: {part} is already a stream, not a directory")
                node = child
        return node, parts[-1]

    def _store(self, blocks: Iterable[bytes]) -> tuple[list[list[bytes]], int]:
        """Chunk and store a stream; per chunk its id in each destination, and the length."""
        avg, lo, hi, seed = self._chunker_args
        chunker = pyfastcdc.FastCDC(avg, min_size=lo, max_size=hi, seed=seed)
        queued: deque[Future[list[bytes]]] = deque()
        ids: list[list[bytes]] = []
        size = 0
        try:
            for chunk in chunker.cut_stream(_BlockReader(blocks)):
                # the chunker reuses its buffer: copy the chunk before handing it over
                queued.append(self._pool.submit(self._save, bytes(chunk.data)))
                size += chunk.length
                while len(queued) > MAX_IN_FLIGHT or (queued and queued[0].done()):
                    ids.append(queued.popleft().result())
            ids.extend(f.result() for f in queued)
        finally:
            for f in queued:
                f.cancel()
        return ids, size

    def _save(self, data: bytes) -> list[bytes]:
        ids = self.fan.save(BlobType.DATA, data)
        with self._lock:
            self.summary.bytes_read += len(data)
        self.progress.advance(nbytes=len(data))
        return ids

    # -- finishing -------------------------------------------------------------
    def commit(self, parents: list[Snapshot | None] | None = None) -> list[Snapshot]:
        """Write the trees, flush every writer, then save one snapshot per destination."""
        self._require_open()
        self._state = "committed"
        try:
            self._pool.shutdown(wait=True)
            roots = self._write_tree(self._root, datetime.now(UTC))
            self.fan.flush()
            self.fan.confirm_reused()
        except BaseException:
            self.fan.abort()
            raise
        crash_point("before-snapshot")
        base = self._base_snapshot()
        parents = parents or [None] * len(self.fan)
        snaps = [
            _for_destination(base, dest, roots[i], parents[i])
            for i, dest in enumerate(self.fan.destinations)
        ]
        for dest, snap in zip(self.fan.destinations, snaps, strict=True):
            dest.repo.save_snapshot(snap)
        self.progress.finish()
        return snaps

    def abort(self) -> None:
        """Give up: no snapshot; packs already stored are left for prune. Idempotent."""
        if self._state != "open":
            return
        self._state = "aborted"
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.fan.abort()
        self.progress.finish()

    def __enter__(self) -> StreamArchiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None or self._state == "open":
            self.abort()  # leaving the block without commit() saves nothing

    def _require_open(self) -> None:
        if self._state != "open":
            raise UsageError(f"this stream backup is already {self._state}")

    def _write_tree(self, directory: _Dir, when: datetime) -> list[bytes]:
        """Encode ``directory`` (post-order) in every destination; its tree id per destination."""
        subtrees = {
            name: self._write_tree(child, when)
            for name, child in directory.children.items()
            if isinstance(child, _Dir)
        }
        self.summary.dirs += len(subtrees)
        ids = []
        for i, dest in enumerate(self.fan.destinations):
            nodes = []
            for name, child in directory.children.items():
                if isinstance(child, _Stream):
                    child.node.content = child.contents[i]
                    nodes.append(child.node)
                else:
                    nodes.append(_dir_node(name, when, subtrees[name][i]))
            tree_id, _ = dest.writer.save(BlobType.TREE, encode_tree(nodes))
            ids.append(tree_id)
        return ids

    def _base_snapshot(self) -> Snapshot:
        self.summary.duration_s = round(time.monotonic() - self._started, 3)
        return Snapshot(
            time=datetime.now(UTC).astimezone(),
            tree=b"",
            paths=self.paths,
            hostname=self.host,
            username=getpass.getuser(),
            tags=self.tags,
            summary=self.summary,
            program_version=f"drkit {__version__}",
            meta=self.meta,
        )


def _dir_node(name: str, when: datetime, subtree: bytes) -> Node:
    """An intermediate directory: owned by the backing-up user, private, at commit time."""
    return Node(
        name,
        NodeType.DIR,
        mode=0o700,
        uid=os.geteuid(),
        gid=os.getegid(),
        user=user_name(os.geteuid()),
        group=group_name(os.getegid()),
        mtime_ns=int(when.timestamp() * 1_000_000_000),
        subtree=subtree,
    )


def _for_destination(
    base: Snapshot, dest: Destination, tree: bytes, parent: Snapshot | None
) -> Snapshot:
    """The base snapshot as one destination stores it: its tree and its own counts."""
    stats = dest.writer.stats
    summary = replace(
        base.summary,
        data_blobs_added=stats.data_blobs,
        tree_blobs_added=stats.tree_blobs,
        data_added=stats.raw_bytes,
        data_added_stored=stats.stored_bytes,
    )
    return replace(base, tree=tree, parent=parent.id if parent else None, summary=summary)


# -- reading streams back ---------------------------------------------------------
def find_stream(repo: Repository, snapshot: Snapshot, path: str) -> Node:
    """The file node at absolute ``path`` in the snapshot (the index must be loaded)."""
    parts = [p for p in path.split("/") if p]
    tree: bytes | None = snapshot.tree
    for depth, part in enumerate(parts):
        if tree is None:
            break
        node = next((n for n in repo.load_tree(tree) if n.name == part), None)
        if node is None:
            break
        if depth == len(parts) - 1 and node.type is NodeType.FILE:
            return node
        tree = node.subtree
    raise UsageError(
        f"snapshot {snapshot.short_id} holds no stream at {path}",
        hint=f"`drkit ls {snapshot.short_id}` lists what it holds",
    )


def list_streams(repo: Repository, snapshot: Snapshot) -> list[tuple[str, Node]]:
    """Every stream (regular file) of the snapshot as (absolute path, node)."""
    return [(p, n) for p, n in repo.walk(snapshot.tree) if n.type is NodeType.FILE]


def open_stream(repo: Repository, snapshot: Snapshot, path: str) -> Iterator[bytes]:
    """Yield the stored bytes of ``path`` in order, each blob verified against its id.

    A few blobs are fetched ahead on worker threads so reading the repository
    overlaps with the consumer (``pg_restore`` and the like). A damaged blob
    raises :class:`~drkit.errors.IntegrityError` at its place in the stream.
    """
    node = find_stream(repo, snapshot, path)
    return _blobs_in_order(repo, node.content)


def _blobs_in_order(repo: Repository, blob_ids: list[bytes]) -> Iterator[bytes]:
    pool = ThreadPoolExecutor(2, thread_name_prefix="drkit-stream-read")
    ahead: deque[Future[bytes]] = deque()
    try:
        for blob_id in blob_ids:
            ahead.append(pool.submit(repo.load_blob, blob_id))
            if len(ahead) > READ_AHEAD:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
