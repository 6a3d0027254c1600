"""Comparing two snapshots, skipping every subtree whose id is the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from drkit.repository.repo import Repository
from drkit.repository.tree import Node, NodeType


class Change(StrEnum):
    ADDED = "+"
    REMOVED = "-"
    MODIFIED = "M"  # content differs
    TYPE = "T"  # a file became a directory, ...
    METADATA = "U"  # same content, other mode, owner, times or xattrs


@dataclass(frozen=True)
class DiffEntry:
    change: Change
    path: str
    type: NodeType
    size_before: int
    size_after: int


def diff_trees(
    repo: Repository, a: bytes | None, b: bytes | None, prefix: str = ""
) -> Iterator[DiffEntry]:
    """Yield the differences between two trees (None is an empty tree), sorted by path."""
    if a == b:
        return
    left = {n.name: n for n in repo.load_tree(a)} if a else {}
    right = {n.name: n for n in repo.load_tree(b)} if b else {}
    for name in sorted(left.keys() | right.keys()):
        yield from _diff_node(repo, f"{prefix}/{name}", left.get(name), right.get(name))


def _diff_node(
    repo: Repository, path: str, old: Node | None, new: Node | None
) -> Iterator[DiffEntry]:
    if old is None or new is None:
        node = new or old
        assert node is not None
        change = Change.ADDED if old is None else Change.REMOVED
        yield DiffEntry(change, path, node.type, old.size if old else 0, new.size if new else 0)
        if node.type is NodeType.DIR:
            yield from diff_trees(
                repo,
                None if old is None else old.subtree,
                None if new is None else new.subtree,
                path,
            )
        return
    if old.type is not new.type:
        yield DiffEntry(Change.TYPE, path, new.type, old.size, new.size)
    elif old.content != new.content or old.target != new.target:
        yield DiffEntry(Change.MODIFIED, path, new.type, old.size, new.size)
    elif _meta(old) != _meta(new) and old.type is not NodeType.DIR:
        yield DiffEntry(Change.METADATA, path, new.type, old.size, new.size)
    if NodeType.DIR in (old.type, new.type):
        yield from diff_trees(repo, old.subtree, new.subtree, path)


def _meta(n: Node) -> tuple[object, ...]:
    return (n.mode, n.uid, n.gid, n.mtime_ns, sorted(n.xattrs.items()))
