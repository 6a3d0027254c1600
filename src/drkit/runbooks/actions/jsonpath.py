"""A tiny JSON path: ``$.data.items[0].name`` (dots and list indexes, nothing more).

Enough for health endpoints (``$.status``, ``$.checks[1].ok``), without a
dependency; the value found is given as text (JSON for objects and lists,
``true``/``false``/``null`` as JSON writes them).
"""

from __future__ import annotations

import json
import re

from drkit.runbooks.errors import ActionFailed

_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")


def parse_path(path: str) -> list[str | int]:
    """``$.a.b[0]`` -> ``["a", "b", 0]``; the leading ``$`` is optional."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else text
    text = text if not text or text[0] in ".[" else "." + text
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ActionFailed(
                f"cannot read the JSON path {path!r} at character {pos + 1}",
                hint="write it like $.status or $.checks[0].name",
            )
        key, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (key or quoted))
        pos = match.end()
    return parts


def lookup(document: object, path: str) -> str | None:
    """The text of the value at ``path``, or None when there is nothing there."""
    node = document
    for part in parse_path(path):
        found, node = _child(node, part)
        if not found:
            return None
    return node if isinstance(node, str) else json.dumps(node)


def _child(node: object, part: str | int) -> tuple[bool, object]:
    if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
        return True, node[part]
    if isinstance(node, dict) and isinstance(part, str) and part in node:
        return True, node[part]
    return False, None
