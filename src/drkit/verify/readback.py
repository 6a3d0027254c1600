"""The independent read-back of a restore: every restored file re-read and hashed.

The restorer verifies each blob before writing it; this checks what actually
landed on disk, from the other end. :func:`build_manifest` walks the
snapshot's trees and lists what the restore must produce: each regular file
with its size and the ids of its content blobs, each symlink with its
target, each directory. :func:`read_back` then opens every restored file,
reads it blob by blob (blob lengths come from the index) and compares the
keyed BLAKE3 of each piece with the id recorded in the tree. A file that is
missing, of the wrong size or type, or differs anywhere is a
:class:`FileProblem` naming the path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from drkit.errors import IntegrityError, StorageError
from drkit.repository.blob import plaintext_length
from drkit.repository.crypto import OVERHEAD
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.tree import Node, NodeType

Hasher = Callable[[bytes], bytes]


@dataclass(frozen=True)
class FileProblem:
    """A path of the snapshot that did not come back intact, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class ExpectedFile:
    path: str  # as in the snapshot, e.g. /srv/app/db.sqlite
    size: int
    blobs: tuple[tuple[bytes, int], ...]  # (blob id, plaintext length), in file order


@dataclass
class Manifest:
    """What restoring a snapshot must produce."""

    files: list[ExpectedFile] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target
    dirs: list[str] = field(default_factory=list)
    gaps: dict[str, str] = field(default_factory=dict)  # not in the snapshot: path -> why
    unreadable: dict[str, str] = field(default_factory=dict)  # damaged listing or missing blob
    bytes: int = 0  # distinct file content (hard links once)


def build_manifest(repo: Repository, tree: bytes) -> Manifest:
    """List the snapshot whose root tree is ``tree``; ``repo`` has its index loaded."""
    manifest, inodes = Manifest(), set[tuple[int, int]]()
    todo = [(tree, "")]
    while todo:
        tree_id, prefix = todo.pop()
        try:
            nodes = repo.load_tree(tree_id)
        except (IntegrityError, StorageError) as exc:
            manifest.unreadable[prefix or "/"] = f"directory listing damaged: {exc}"
            continue
        for node in nodes:
            path = f"{prefix}/{node.name}"
            _add(repo, manifest, inodes, path, node)
            if node.subtree is not None:
                todo.append((node.subtree, path))
    return manifest


def _add(
    repo: Repository, m: Manifest, inodes: set[tuple[int, int]], path: str, node: Node
) -> None:
    if node.error and node.type is not NodeType.DIR:
        m.gaps[path] = f"not in the snapshot: unreadable at backup ({node.error})"
    elif node.type is NodeType.DIR:
        m.dirs.append(path)
    elif node.type is NodeType.SYMLINK:
        m.symlinks[path] = node.target
    elif node.type is NodeType.FILE:
        blobs = _blob_lengths(repo, node)
        if blobs is None:
            m.unreadable[path] = "a content blob is missing from the index"
            return
        m.files.append(ExpectedFile(path, node.size, blobs))
        key = (node.device, node.inode)
        if node.links <= 1 or key not in inodes:
            m.bytes += node.size
            inodes.add(key)


def _blob_lengths(repo: Repository, node: Node) -> tuple[tuple[bytes, int], ...] | None:
    found = []
    for blob_id in node.content:
        loc = repo.index.get(blob_id)
        if loc is None:
            return None
        found.append((blob_id, plaintext_length(loc, OVERHEAD)))
    return tuple(found)


# -- reading back ---------------------------------------------------------------------


def read_back(
    root: str,
    manifest: Manifest,
    hash_id: Hasher,
    *,
    skip: set[str] | frozenset[str] = frozenset(),
    progress: Progress | None = None,
    workers: int = 2,
) -> list[FileProblem]:
    """Compare the restore under ``root`` with ``manifest``; the problems, sorted by path.

    Paths in ``skip`` (already known not to be restored) are not looked at.
    """
    progress = progress or Progress()
    files = [f for f in manifest.files if f.path not in skip]
    progress.start("verify")
    progress.set_total(len(files), sum(f.size for f in files))
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="drkit-readback") as pool:
            found = [p for p in pool.map(lambda f: _file(root, f, hash_id, progress), files) if p]
    finally:
        progress.finish()
    found += _links_and_dirs(root, manifest, skip)
    return sorted(found, key=lambda p: p.path)


def _file(root: str, f: ExpectedFile, hash_id: Hasher, progress: Progress) -> FileProblem | None:
    try:
        fd = os.open(root + f.path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return FileProblem(f.path, "missing from the restore")
    except OSError as exc:
        return FileProblem(f.path, f"cannot be opened: {exc.strerror or exc}")
    try:
        return _compare(fd, f, hash_id, progress)
    except OSError as exc:
        return FileProblem(f.path, f"cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)


def _compare(fd: int, f: ExpectedFile, hash_id: Hasher, progress: Progress) -> FileProblem | None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return FileProblem(f.path, "is not a regular file")
    if st.st_size != f.size:
        return FileProblem(f.path, f"is {st.st_size} bytes; the snapshot says {f.size}")
    offset = 0
    for blob_id, length in f.blobs:
        piece = _read_exactly(fd, offset, length)
        progress.advance(nbytes=len(piece))
        if len(piece) != length or hash_id(piece) != blob_id:
            return FileProblem(
                f.path,
                f"content differs from the snapshot in bytes {offset}-{offset + length - 1} "
                f"(blob {blob_id.hex()[:12]})",
            )
        offset += length
    progress.advance(files=1)
    return None


def _read_exactly(fd: int, offset: int, length: int) -> bytes:
    parts, got = [], 0
    while got < length:
        chunk = os.pread(fd, length - got, offset + got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _links_and_dirs(root: str, m: Manifest, skip: set[str] | frozenset[str]) -> list[FileProblem]:
    found = []
    for path, target in m.symlinks.items():
        if path in skip:
            continue
        try:
            actual = os.readlink(root + path)
        except OSError:
            found.append(FileProblem(path, "symlink missing from the restore"))
            continue
        if actual != target:
            found.append(FileProblem(path, f"symlink points to {actual!r}, not {target!r}"))
    found += [
        FileProblem(path, "directory missing from the restore")
        for path in m.dirs
        if path not in skip and not os.path.isdir(root + path)
    ]
    return found
