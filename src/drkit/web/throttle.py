"""Failed-login throttling: after a few failures for one name or one address, wait.

The decision is the pure :func:`wait_for`; :class:`Throttle` keeps the recent
failures in memory (one daemon; a restart forgets them, which only helps the
legitimate user).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta

FREE_FAILURES = 5  # failures allowed in WINDOW before a wait
WINDOW = timedelta(minutes=15)
BASE_WAIT = timedelta(seconds=30)  # doubled for each failure past FREE_FAILURES
MAX_WAIT = timedelta(minutes=15)


def wait_for(failures: list[datetime], now: datetime) -> timedelta:
    """How long a new attempt must wait, given the failure times of one key."""
    recent = sorted(t for t in failures if now - t < WINDOW)
    if len(recent) < FREE_FAILURES:
        return timedelta(0)
    wait: timedelta = min(BASE_WAIT * 2 ** (len(recent) - FREE_FAILURES), MAX_WAIT)
    return max(timedelta(0), recent[-1] + wait - now)


class Throttle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = defaultdict(lambda: deque(maxlen=50))
        self._lock = threading.Lock()

    def wait(self, keys: list[str], now: datetime) -> timedelta:
        with self._lock:
            return max(wait_for(list(self._failures[k]), now) for k in keys)

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for k in keys:
                self._failures[k].append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
