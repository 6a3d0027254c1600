"""Whether a process on this host is alive: for stale locks and abandoned runs."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True when ``pid`` exists (even if owned by another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists; we may not signal it
        return True
    return True
