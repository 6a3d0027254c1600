"""Tracing damaged or missing blobs to the snapshots and paths that need them.

A damaged tree hides everything below it; the mapper says so rather than guessing.
"""

from __future__ import annotations

from drkit.errors import IntegrityError, StorageError
from drkit.repository.check_report import AffectedPath, AffectedSnapshot
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node

_UNKNOWN_BELOW = "directory listing damaged: everything below it is unknown"


class DamageMapper:
    """Finds the paths of snapshots that need a damaged blob.

    Each distinct tree is resolved once; a tree's result is the list of
    affected paths relative to it, which every parent that holds it reuses.
    """

    def __init__(self, repo: Repository, damaged: set[bytes]) -> None:
        self.repo = repo
        self.damaged = damaged
        self._memo: dict[bytes, list[AffectedPath]] = {}

    def map(self, snapshots: list[Snapshot]) -> list[AffectedSnapshot]:
        if not self.damaged:
            return []
        found = []
        for snap in snapshots:
            paths = self.affected(snap.tree)
            if paths:
                found.append(AffectedSnapshot(snap.id, snap.time, paths))
        return found

    def affected(self, root: bytes) -> list[AffectedPath]:
        """Affected paths under tree ``root`` (``/`` is the tree itself)."""
        self._resolve(root)
        return [AffectedPath(p.path or "/", p.reason) for p in self._memo[root]]

    def _resolve(self, root: bytes) -> None:
        """Fill the memo for ``root`` and every tree below it, children first."""
        pending: dict[bytes, list[Node]] = {}
        stack = [root]
        while stack:
            tree_id = stack[-1]
            if tree_id in self._memo:
                stack.pop()
                continue
            nodes = pending.get(tree_id)
            if nodes is None:
                loaded = self._load(tree_id)
                if loaded is None:
                    self._memo[tree_id] = [AffectedPath("", _UNKNOWN_BELOW)]
                    stack.pop()
                    continue
                pending[tree_id] = loaded
                children = [n.subtree for n in loaded if n.subtree is not None]
                todo = [c for c in children if c not in self._memo and c not in pending]
                if todo:
                    stack.extend(todo)
                    continue
                nodes = loaded
            self._memo[tree_id] = self._combine(nodes)
            del pending[tree_id]
            stack.pop()

    def _load(self, tree_id: bytes) -> list[Node] | None:
        if tree_id in self.damaged:
            return None
        try:
            return self.repo.load_tree(tree_id)
        except (IntegrityError, StorageError, ValueError, KeyError, TypeError):
            return None

    def _combine(self, nodes: list[Node]) -> list[AffectedPath]:
        found: list[AffectedPath] = []
        for node in nodes:
            path = f"/{node.name}"
            bad = sum(1 for b in node.content if b in self.damaged)
            if bad:
                found.append(
                    AffectedPath(
                        path, f"{bad} of {len(node.content)} content blobs damaged or missing"
                    )
                )
            if node.subtree is not None:
                below = self._memo.get(node.subtree, [AffectedPath("", _UNKNOWN_BELOW)])
                found.extend(AffectedPath(path + p.path, p.reason) for p in below)
        return found
