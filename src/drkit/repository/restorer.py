"""Restore: bring a snapshot's files back into a directory.

A window at a time, so memory stays flat however many files the snapshot
holds. Walking the snapshot's trees depth-first creates every directory,
symlink and special file and collects, for each regular file, the blobs it
needs and where they go; once a window of files (``WINDOW_FILES`` or
``WINDOW_BYTES``) is planned, it is written: blobs are read pack by pack,
each pack's needed range in one read, on a few threads; each blob is
verified against its id before it is written with ``pwrite``. All-zero
chunks are not written, so sparse files stay sparse. Hard links are made
once their first name has its content (an earlier name is in the same or an
earlier window). A directory's metadata goes on once the window holding its
last entry is written (post-order), so setting its mtime is not undone by
writing into it.

A damaged blob does not stop the restore: the files that needed it are
listed and the caller exits non-zero.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import threading
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from drkit.errors import DrkitError, IntegrityError, ObjectNotFound, SnapshotNotFound, UsageError
from drkit.repository.blob import BlobLocation, plaintext_length
from drkit.repository.crypto import OVERHEAD
from drkit.repository.metadata import apply_metadata, apply_metadata_fd
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node, NodeType
from drkit.storage.base import FileKind

MAX_GAP = 256 * 1024  # read through gaps smaller than this instead of seeking
MAX_READ = 4 * 1024 * 1024  # one read covers at most this much (bounds memory per thread)
SPARSE_BLOCK = 64 * 1024  # zero blocks of this size are left as holes
_ZEROS = bytes(SPARSE_BLOCK)
WINDOW_FILES = 4096  # files planned before they are written (about 2 KiB each)
WINDOW_BYTES = 256 * 1024 * 1024  # or this much content, whichever comes first


@dataclass(slots=True)
class FileTarget:
    path: str
    node: Node
    remaining: int  # blobs still to write; -1 once the file has failed


@dataclass
class RestoreResult:
    files: int = 0
    dirs: int = 0
    bytes: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # path -> why
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Window:
    """A window being written: its pack reads, then its hard links and finished dirs."""

    packs: list[Future[None]]
    links: list[tuple[str, str, Node]]
    closed: list[tuple[str, Node]]


@dataclass(slots=True)
class _Write:
    target: FileTarget
    offset: int


class Restorer:
    """Restores one snapshot (or parts of it) into ``target``."""

    def __init__(
        self,
        repo: Repository,
        snapshot: Snapshot,
        target: str,
        includes: list[str] | None = None,
        progress: Progress | None = None,
        workers: int = 2,
    ) -> None:
        self.repo, self.snapshot = repo, snapshot
        self.target = os.path.abspath(target)
        self.includes = [i.rstrip("/") or "/" for i in includes or []]
        self.progress = progress or Progress()
        self.workers = workers
        self.as_root = os.geteuid() == 0
        self.result = RestoreResult()
        self._closed: list[tuple[str, Node]] = []  # directories complete once the window is
        self._window_bytes = 0
        self._in_flight: _Window | None = None
        self._pool: ThreadPoolExecutor
        self._files: list[FileTarget] = []
        self._links: list[tuple[str, str, Node]] = []  # (path, first path, node)
        self._plan: dict[str, list[tuple[BlobLocation, bytes, list[_Write]]]] = defaultdict(list)
        self._by_blob: dict[bytes, list[_Write]] = {}
        self._hardlink_first: dict[tuple[int, int], str] = {}
        self._lock = threading.Lock()

    def run(self) -> RestoreResult:
        try:
            os.makedirs(self.target, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create the target {self.target}: {exc.strerror or exc}",
                hint="restore into a directory you can create and write",
            ) from None
        self.progress.start("restore")
        self._refuse_unmatched_includes()
        summary = self.snapshot.summary
        if not self.includes and summary.files_total:
            self.progress.set_total(summary.files_total, summary.bytes_total)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="drkit-restore") as pool:
            self._pool = pool
            self._plan_tree(self.snapshot.tree, "")
            self._write_window()
            self._finish_window()
        self.progress.finish()
        return self.result

    def _write_window(self) -> None:
        """Start writing what is planned and drop the plan; the walk plans the next window
        meanwhile. The window before is finished first: one window in flight at a time."""
        self._finish_window()
        self._create_files()
        plan = self._plan
        futures = [self._pool.submit(self._restore_pack, pack, plan[pack]) for pack in sorted(plan)]
        self._in_flight = _Window(futures, self._links, self._closed)
        self._files, self._links, self._closed = [], [], []
        self._plan, self._by_blob = defaultdict(list), {}
        self._window_bytes = 0

    def _finish_window(self) -> None:
        """Wait for the window in flight; then its hard links and finished directories."""
        window, self._in_flight = self._in_flight, None
        if window is None:
            return
        for future in window.packs:
            future.result()
        self._make_links(window.links)
        for path, node in window.closed:
            self._apply(path, node)

    def _window_full(self) -> bool:
        return (
            len(self._files) + len(self._links) >= WINDOW_FILES
            or self._window_bytes >= WINDOW_BYTES
        )

    # -- planning --------------------------------------------------------------
    def _wanted(self, rel: str, is_dir: bool) -> bool:
        if not self.includes:
            return True
        return any(
            rel == inc
            or rel.startswith(inc + "/")
            or inc == "/"
            or (is_dir and inc.startswith(rel + "/"))
            for inc in self.includes
        )

    def _refuse_unmatched_includes(self) -> None:
        """An --include naming nothing is an error, before anything is written (a restore
        that "restored 0 files" of the wrong path is not a success). An include under an
        unreadable directory listing is not refused here: planning reports it as failed."""
        unmatched = [inc for inc in self.includes if self._lookup(inc) is False]
        if unmatched:
            short = self.snapshot.short_id
            raise SnapshotNotFound(
                f"no path of snapshot {short} matches --include {', '.join(unmatched)}; "
                "nothing was restored",
                hint=f"`drkit ls {short}` lists the snapshot's paths (give them as listed)",
            )

    def _lookup(self, include: str) -> bool | None:
        """Whether ``include`` names a node of the snapshot; None when a listing is unreadable.

        Reads only the directory listings on the way to it."""
        tree: bytes | None = self.snapshot.tree
        for name in [part for part in include.split("/") if part]:
            if tree is None:
                return False  # a path below a file or an empty directory
            try:
                nodes = self.repo.load_tree(tree)
            except (IntegrityError, ObjectNotFound):
                return None
            node = next((n for n in nodes if n.name == name), None)
            if node is None:
                return False
            tree = node.subtree if node.type is NodeType.DIR else None
        return True

    def _plan_tree(self, tree_id: bytes, rel: str) -> None:
        try:
            nodes = self.repo.load_tree(tree_id)
        except IntegrityError as exc:
            self.result.failed[rel or "/"] = f"directory listing damaged, nothing under it: {exc}"
            return
        except ObjectNotFound as exc:  # its pack is gone: restore the rest, list this
            self.result.failed[rel or "/"] = f"directory listing missing, nothing under it: {exc}"
            return
        for node in nodes:
            child_rel = f"{rel}/{node.name}"
            if self._wanted(child_rel, node.type is NodeType.DIR):
                self._plan_node(node, child_rel)

    def _plan_node(self, node: Node, rel: str) -> None:
        path = self.target + rel
        if node.error and node.type is not NodeType.DIR:
            self.result.failed[rel] = f"not in the snapshot (unreadable at backup: {node.error})"
            return
        if node.type is NodeType.DIR:
            try:
                _make_dir(path)
            except OSError as exc:
                self.result.failed[rel] = f"cannot create the directory: {exc.strerror or exc}"
                return
            self.result.dirs += 1
            if node.subtree is not None:
                self._plan_tree(node.subtree, rel)
            self._closed.append((path, node))
        elif node.type is NodeType.FILE:
            self._plan_file(path, node)
            if self._window_full():
                self._write_window()
        else:
            self._make_special(path, node)

    def _plan_file(self, path: str, node: Node) -> None:
        if node.links > 1:
            key = (node.device, node.inode)
            first = self._hardlink_first.get(key)
            if first is not None:
                self._links.append((path, first, node))
                return
            self._hardlink_first[key] = path
        target = FileTarget(path, node, len(node.content))
        self._files.append(target)
        self._window_bytes += node.size
        offset = 0
        for blob_id in node.content:
            loc = self.repo.index.get(blob_id)
            if loc is None:
                self.result.failed[path] = f"blob {blob_id.hex()[:12]} is missing from the index"
                target.remaining = -1
                break
            write = _Write(target, offset)
            writes = self._by_blob.get(blob_id)
            if writes is None:
                writes = self._by_blob[blob_id] = []
                self._plan[loc.pack].append((loc, blob_id, writes))
            writes.append(write)
            offset += plaintext_length(loc, OVERHEAD)

    def _make_special(self, path: str, node: Node) -> None:
        try:
            if os.path.lexists(path):
                os.unlink(path)
            if node.type is NodeType.SYMLINK:
                os.symlink(node.target, path)
            elif node.type is NodeType.FIFO:
                os.mkfifo(path, node.mode)
            elif node.type in (NodeType.CHARDEV, NodeType.BLOCKDEV):
                kind = stat.S_IFCHR if node.type is NodeType.CHARDEV else stat.S_IFBLK
                os.mknod(path, node.mode | kind, node.rdev)
            else:
                return  # sockets are not restorable
        except OSError as exc:
            self.result.failed[path] = exc.strerror or str(exc)
            return
        self._apply(path, node)

    # -- writing ---------------------------------------------------------------
    # No descriptor is held between writes: a restore of millions of files must
    # not run into the open-file limit. A file of one blob is created when that
    # blob arrives; a larger file is created at its final size first (so blobs
    # may land in any order) and opened for each write.
    def _create_files(self) -> None:
        for target in self._files:
            if target.remaining == 1:
                continue
            try:
                os.close(_open_target(target.path, target.node.size, create=True))
            except OSError as exc:
                self.result.failed[target.path] = exc.strerror or str(exc)
                target.remaining = -1
                continue
            if target.remaining == 0:
                self._complete(target)  # empty file

    def _restore_pack(
        self, pack: str, needed: list[tuple[BlobLocation, bytes, list[_Write]]]
    ) -> None:
        blobs = sorted(needed, key=lambda b: b[0].offset)
        for group in _ranges(blobs):
            start = group[0][0].offset
            end = group[-1][0].offset + group[-1][0].length
            try:
                data = memoryview(self.repo.backend.load(FileKind.PACK, pack, start, end - start))
            except DrkitError as exc:
                for _loc, _blob_id, writes in group:
                    self._fail(writes, f"pack {pack[:12]} unreadable: {exc}")
                continue
            for loc, blob_id, writes in group:
                sealed = data[loc.offset - start : loc.offset - start + loc.length]
                self._write_blob(blob_id, loc, sealed, writes)

    def _write_blob(
        self, blob_id: bytes, loc: BlobLocation, sealed: memoryview, writes: list[_Write]
    ) -> None:
        try:
            plain = self.repo.open_blob(blob_id, loc, sealed)
        except IntegrityError as exc:
            self._fail(writes, str(exc))
            return
        runs = _nonzero_runs(plain)
        view = memoryview(plain)
        for w in writes:
            target = w.target
            if target.remaining < 0:
                continue
            whole = len(target.node.content) == 1  # this write completes the file
            try:
                fd = _open_target(target.path, target.node.size, create=whole)
                try:
                    for start, end in runs:
                        os.pwrite(fd, view[start:end], w.offset + start)
                    if whole:  # metadata through the open descriptor: no path lookups
                        warnings = self._apply_fd(fd, target)
                finally:
                    os.close(fd)
            except OSError as exc:
                self._fail([w], exc.strerror or str(exc))
                continue
            self.progress.advance(nbytes=len(plain))
            if whole:
                self._completed(target, warnings)
            else:
                self._blob_done(target)

    def _blob_done(self, target: FileTarget) -> None:
        with self._lock:
            target.remaining -= 1
            if target.remaining != 0:
                return
        self._complete(target)

    def _fail(self, writes: list[_Write], why: str) -> None:
        for w in writes:
            with self._lock:
                self.result.failed.setdefault(w.target.path, why)
                w.target.remaining = -1

    def _complete(self, target: FileTarget) -> None:
        self._apply(target.path, target.node)
        self._completed(target, [])

    def _completed(self, target: FileTarget, warnings: list[str]) -> None:
        with self._lock:
            target.remaining = 0
            self.result.warnings += warnings
            self.result.files += 1
            self.result.bytes += target.node.size
        self.progress.advance(files=1)

    def _make_links(self, links: list[tuple[str, str, Node]]) -> None:
        for path, first, _node in links:
            if first in self.result.failed:
                self.result.failed[path] = f"hard link to {first}, which failed"
                continue
            try:
                if os.path.lexists(path):
                    os.unlink(path)
                os.link(first, path)
                self.result.files += 1
            except OSError as exc:
                self.result.failed[path] = exc.strerror or str(exc)

    def _apply_fd(self, fd: int, target: FileTarget) -> list[str]:
        try:
            return apply_metadata_fd(fd, target.path, target.node, self.as_root)
        except OSError as exc:
            return [f"{target.path}: cannot set metadata: {exc.strerror}"]

    def _apply(self, path: str, node: Node) -> None:
        try:
            self.result.warnings += apply_metadata(path, node, as_root=self.as_root)
        except OSError as exc:
            self.result.warnings.append(f"{path}: cannot set metadata: {exc.strerror}")


def _make_dir(path: str) -> None:
    """Make a directory of the snapshot; never go through what is already at ``path``.

    Under --overwrite the target may hold a symlink (to a directory outside
    it) or a file where the snapshot has a directory: it is replaced, so
    nothing is ever written outside the target. Parents were made the same
    way, so every component below the target is a real directory.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        os.mkdir(path)
        return
    if stat.S_ISDIR(st.st_mode):
        return
    os.unlink(path)
    os.mkdir(path)


def _open_target(path: str, size: int, *, create: bool) -> int:
    """Open a file being restored; ``create`` makes it anew at ``size`` (holes only).

    Never follows a symlink or writes into a directory already at ``path``
    (possible with --overwrite): such an obstacle is removed first.
    """
    if not create:
        return os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o600)
    except (IsADirectoryError, OSError) as exc:
        if not isinstance(exc, IsADirectoryError) and exc.errno != errno.ELOOP:
            raise
        _remove(path)
        fd = os.open(path, flags, 0o600)
    os.ftruncate(fd, size)
    return fd


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _nonzero_runs(data: bytes) -> list[tuple[int, int]]:
    """The (start, end) spans of ``data`` holding non-zero blocks; zeros become holes."""
    size = len(data)
    if size <= SPARSE_BLOCK:
        return [] if data == _ZEROS[:size] else [(0, size)]
    runs: list[tuple[int, int]] = []
    view = memoryview(data)
    for start in range(0, size, SPARSE_BLOCK):
        end = min(start + SPARSE_BLOCK, size)
        if view[start:end] == _ZEROS[: end - start]:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def _ranges(
    blobs: list[tuple[BlobLocation, bytes, list[_Write]]],
) -> list[list[tuple[BlobLocation, bytes, list[_Write]]]]:
    """Group blobs sorted by offset into runs read with one request each."""
    groups: list[list[tuple[BlobLocation, bytes, list[_Write]]]] = []
    start = end = -1
    for item in blobs:
        loc = item[0]
        if groups and loc.offset - end <= MAX_GAP and loc.offset + loc.length - start <= MAX_READ:
            groups[-1].append(item)
        else:
            groups.append([item])
            start = loc.offset
        end = loc.offset + loc.length
    return groups


def check_target(target: str, force: bool) -> None:
    """Refuse to restore over a non-empty directory unless forced, or onto a non-directory."""
    if os.path.lexists(target) and not os.path.isdir(target):
        raise UsageError(
            f"the target {target} exists and is not a directory",
            hint="restore into a new or empty directory",
        )
    if os.path.isdir(target) and os.listdir(target) and not force:
        raise UsageError(
            f"the target {target} is not empty",
            hint="restore into an empty directory, or pass --overwrite",
        )
