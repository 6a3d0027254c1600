"""Verify that a restored tree is identical to the source tree.

Compares the set of directories, the set of regular files and a content hash of every
file. Backup tools place the restored data differently (``TARGET/dataset``,
``TARGET/<absolute path>/dataset`` or ``TARGET`` itself), so the restored copy of the
source root is located first.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

MAX_EXAMPLES = 5
MAX_SEARCH_DEPTH = 16


@dataclass
class TreeManifest:
    """Relative directory paths and relative file path -> BLAKE2b digest."""

    dirs: set[str]
    files: dict[str, str]


@dataclass
class VerifyResult:
    """Differences between a source tree and its restored copy."""

    ok: bool
    restored_root: str | None
    files_compared: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""


def _hash_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "blake2b").hexdigest()


def manifest(root: Path) -> TreeManifest:
    """Hash every regular file below ``root``; record every directory."""
    dirs: set[str] = set()
    files: dict[str, str] = {}
    for current, dirnames, filenames in os.walk(root):
        base = Path(current)
        rel = base.relative_to(root)
        dirs.update((rel / name).as_posix() for name in dirnames)
        for name in filenames:
            path = base / name
            if path.is_file() and not path.is_symlink():
                files[(rel / name).as_posix()] = _hash_file(path)
    return TreeManifest(dirs, files)


def find_restored_root(target: Path, source: Path) -> Path | None:
    """Breadth-first search below ``target`` for the directory mirroring ``source``.

    A directory matches when it contains every top-level entry of ``source``.
    """
    top_level = {entry.name for entry in source.iterdir()}
    queue: deque[tuple[Path, int]] = deque([(target, 0)])
    while queue:
        current, depth = queue.popleft()
        names = {entry.name for entry in current.iterdir()}
        if top_level <= names:
            return current
        if depth < MAX_SEARCH_DEPTH:
            queue.extend(
                (entry, depth + 1)
                for entry in sorted(current.iterdir())
                if entry.is_dir() and not entry.is_symlink()
            )
    return None


def verify_restore(source: TreeManifest, source_root: Path, target: Path) -> VerifyResult:
    """Compare the restored copy of ``source_root`` found below ``target`` to ``source``."""
    root = find_restored_root(target, source_root)
    if root is None:
        return VerifyResult(
            ok=False, restored_root=None, message="restored data not found in target"
        )
    restored = manifest(root)
    problems = {
        "missing": sorted(source.files.keys() - restored.files.keys()),
        "extra": sorted(restored.files.keys() - source.files.keys()),
        "different": sorted(
            rel
            for rel, digest in source.files.items()
            if rel in restored.files and restored.files[rel] != digest
        ),
        "missing dirs": sorted(source.dirs - restored.dirs),
    }
    result = VerifyResult(
        ok=not any(problems.values()),
        restored_root=root.relative_to(target).as_posix(),
        files_compared=len(source.files),
        counts={label: len(paths) for label, paths in problems.items()},
        examples={label: paths[:MAX_EXAMPLES] for label, paths in problems.items() if paths},
    )
    result.message = _describe(result)
    return result


def _describe(result: VerifyResult) -> str:
    if result.ok:
        return f"all {result.files_compared} files identical"
    return "; ".join(
        f"{result.counts[label]} {label} (e.g. {', '.join(paths)})"
        for label, paths in result.examples.items()
    )
