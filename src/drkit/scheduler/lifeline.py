"""A step's lifeline to its daemon: when the daemon dies, even by SIGKILL, the step stops.

The daemon starts every step with ``DRKIT_PARENT_PID`` set. At start-up the
step asks Linux to send it SIGINT (drkit's clean stop) when its parent dies
(``PR_SET_PDEATHSIG``), then checks the parent is still the daemon, since it
may have died before the request was made. This runs in the step after
exec, not in a ``preexec_fn``: code between fork and exec in a threaded
daemon can deadlock.
"""

from __future__ import annotations

import ctypes
import os
import signal

PARENT_ENV = "DRKIT_PARENT_PID"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def follow_parent(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Stop (SIGINT) when the daemon that started this process ends; no-op outside a daemon."""
    parent = environ.get(PARENT_ENV)
    if not parent or not parent.isdigit():
        return
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    except (OSError, AttributeError):  # not Linux: an orphaned step runs to its end
        return
    if os.getppid() != int(parent):
        os.kill(os.getpid(), signal.SIGINT)
