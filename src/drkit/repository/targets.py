"""The paths a file backup names, as its snapshot records them."""

from __future__ import annotations

import os

from drkit.errors import UsageError


def normalise_targets(paths: list[str]) -> list[str]:
    """Absolute, normalised, sorted backup paths; a path inside another is dropped."""
    if not paths:
        raise UsageError("nothing to back up", hint="name at least one path")
    targets = []
    for raw in paths:
        path = os.path.normpath(os.path.abspath(raw))
        if not os.path.lexists(path):
            raise UsageError(f"{raw} does not exist", hint="check the path")
        targets.append(path)
    # a path inside another target is already covered by it
    ordered = sorted(set(targets))
    return [
        p for p in ordered if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in ordered)
    ]
