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


def process_start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, /proc/PID/stat field 22); None if unknown.

    A lock records it beside the pid: a pid reused by a new process has
    another start time, so the old lock is seen to be stale.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    fields = raw.rsplit(b")", 1)[-1].split()  # the name in () may hold spaces
    try:
        return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)
    except (IndexError, ValueError):
        return None
