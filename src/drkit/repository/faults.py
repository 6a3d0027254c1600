"""Named crash points for the crash-safety tests.

``DRKIT_CRASH_AT=name[:n]`` makes the process SIGKILL itself the n-th time
(default: first) it passes the point ``name``. ``DRKIT_PAUSE_AT=name:seconds``
makes it sleep there instead (the daemon tests stop a step while it runs);
``DRKIT_PAUSE_AT=name:stop`` makes it SIGSTOP itself there the first time (a test resumes it
with SIGCONT). ``DRKIT_MARK_AT=name:path`` creates the file ``path`` when the
process passes ``name`` (a test waits for it to know where the process is).
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
_mark_name, _, _mark_path = os.environ.get("DRKIT_MARK_AT", "").partition(":")
_lock = threading.Lock()


_stopped = threading.Event()


def _stop_once() -> None:
    if not _stopped.is_set():
        _stopped.set()
        os.kill(os.getpid(), signal.SIGSTOP)


def crash_point(name: str) -> None:
    global _count
    if _mark_name and name == _mark_name:
        with open(_mark_path, "a"):
            pass
    if _pause_name and name == _pause_name:
        if _pause_seconds == "stop":
            _stop_once()
        else:
            time.sleep(float(_pause_seconds or 60))
    if not _spec or name != _name:
        return
    with _lock:
        _count += 1
        if _count >= int(_nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
