"""Process trees from /proc, and signals to all of a tree (the anchor's injection)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now ([] if ``pid`` is gone)."""
    if not Path(f"/proc/{pid}").exists():
        return []
    children = _children()
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        todo.extend(children.get(each, []))
    return found


def signal_all(
    victims: Callable[[], list[int]], sig: int, rounds: int = 3
) -> tuple[float, list[int]]:
    """Send ``sig`` to every victim; rescan ``rounds`` times to catch processes forked meanwhile.

    Returns the wall time the first round went out (the tree is scanned before it,
    a scan of /proc can take tens of milliseconds) and every PID signalled.
    """
    sent: list[int] = []
    at = 0.0
    for _ in range(rounds):
        fresh = [pid for pid in victims() if pid not in sent]
        if not fresh and sent:
            break
        if not sent:
            at = time.time()
        for pid in fresh:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
            sent.append(pid)
    return at, sent
