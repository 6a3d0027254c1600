"""Named crash points for the crash-safety tests.

``DRKIT_CRASH_AT=name[:n]`` makes the process SIGKILL itself the n-th time
(default: first) it passes the point ``name``. ``DRKIT_PAUSE_AT=name:seconds``
makes it sleep there instead (the daemon tests stop a step while it runs).
Unset, a point costs one dict lookup. Points are listed in
docs/repository-format.md (Crash safety).
"""

from __future__ import annotations

import os
import signal
import threading
import time

_spec = os.environ.get("DRKIT_CRASH_AT", "")
_name, _, _nth = _spec.partition(":")
_count = 0
_pause_name, _, _pause_seconds = os.environ.get("DRKIT_PAUSE_AT", "").partition(":")
_lock = threading.Lock()


def crash_point(name: str) -> None:
    global _count
    if _pause_name and name == _pause_name:
        time.sleep(float(_pause_seconds or 60))
    if not _spec or name != _name:
        return
    with _lock:
        _count += 1
        if _count >= int(_nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
