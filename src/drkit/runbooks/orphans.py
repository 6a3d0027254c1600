"""Step processes a killed runner left behind: found by their run marker, ended before a resume.

Every process an action starts carries ``DRKIT_RUNBOOK_RUN=<run id>`` in its
environment (inherited by whatever it starts in turn) and gets SIGKILL when
the runner dies (``PR_SET_PDEATHSIG`` through ``setpriv``). The signal
reaches only the direct child; a pipeline or a daemon it forked lives on.
Before a resume starts a step again, :func:`end_step_processes` finds every
process of this user still marked with the run and ends its process group,
so no step ever runs twice at once.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

RUN_MARKER = "DRKIT_RUNBOOK_RUN"
GRACE_S = 5.0


def marked_processes(run_id: int, proc: Path = Path("/proc")) -> list[int]:
    """Pids of processes (other than this one) whose environment names run ``run_id``."""
    wanted = f"{RUN_MARKER}={run_id}".encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)


def end_step_processes(run_id: int, grace_s: float = GRACE_S) -> list[int]:
    """SIGTERM, then SIGKILL, the process groups of run ``run_id``'s leftovers; their pids."""
    pids = marked_processes(run_id)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            _signal_group(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _alive(pids):
            time.sleep(0.05)
        if not _alive(pids):
            break
    return pids


def _signal_group(pid: int, sig: int) -> None:
    try:
        group = os.getpgid(pid)
        if group == os.getpgrp():  # never our own group (the caller started it, not a runner)
            os.kill(pid, sig)
        else:
            os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(pids: list[int]) -> bool:
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            return True
    return False
