"""Globs over any file system: ``*``, ``?`` and ``[..]`` within a name, ``**`` for any depth.

The same rules serve local paths, paths on SSH hosts (where only ``listdir``
and ``stat`` exist) and the question which source a collected file belongs to.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable

_MAGIC = re.compile(r"[*?\[]")

ListDir = Callable[[str], list[tuple[str, bool]]]
"""``listdir(path)`` -> [(name, is_directory)]; an unreadable directory gives []."""


def has_magic(pattern: str) -> bool:
    return _MAGIC.search(pattern) is not None


def glob_match(pattern: str, path: str) -> bool:
    """Whether ``path`` matches ``pattern`` with glob rules (``*`` stays within a name)."""
    if not has_magic(pattern):
        return posixpath.normpath(pattern) == posixpath.normpath(path)
    return _match_parts(pattern.strip("/").split("/"), path.strip("/").split("/"))


def _match_parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    return _name_matches(parts[0], head) and _match_parts(rest, parts[1:])


def _name_matches(name: str, pattern: str) -> bool:
    """fnmatch, except that wildcards do not match a leading dot (as in a shell)."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def expand(pattern: str, listdir: ListDir) -> list[str]:
    """Every file path matching the absolute ``pattern``, sorted (a literal path as is)."""
    if not has_magic(pattern):
        return [posixpath.normpath(pattern)]
    found: list[str] = []
    _walk("/", pattern.strip("/").split("/"), listdir, found)
    return sorted(set(found))


def _walk(base: str, parts: list[str], listdir: ListDir, found: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head == "**":
        if rest:
            _walk(base, rest, listdir, found)
        for name, is_dir in listdir(base):
            if name.startswith("."):
                continue
            if is_dir:
                _walk(posixpath.join(base, name), parts, listdir, found)
            elif not rest:
                found.append(posixpath.join(base, name))
        return
    if not has_magic(head):
        entries = [(head, True)] if rest else [(n, d) for n, d in listdir(base) if n == head]
    else:
        entries = [(n, d) for n, d in listdir(base) if _name_matches(n, head)]
    for name, is_dir in entries:
        path = posixpath.join(base, name)
        if rest:
            _walk(path, rest, listdir, found)
        elif not is_dir:
            found.append(path)
