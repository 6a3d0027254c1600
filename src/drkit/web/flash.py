"""A value shown once on the page after a redirect (a new token's secret), held in memory.

A form that makes a secret answers with a redirect (so reloading the page
never makes a second token); the page it redirects to takes the secret from
here, once, for the same session only. Nothing is written anywhere: a value
not taken within :data:`KEEP` is dropped, and a restart drops them all.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta
from typing import Generic, TypeVar

KEEP = timedelta(minutes=5)
T = TypeVar("T")


class OneTime(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[datetime, T]] = {}

    def put(self, session: str, value: T, now: datetime) -> str:
        """Hold ``value`` for ``session``; the key to take it with."""
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._drop_old(now)
            self._held[(_digest(session), key)] = (now, value)
        return key

    def take(self, session: str, key: str, now: datetime) -> T | None:
        """The value, once, if ``session`` put it under ``key`` less than KEEP ago."""
        with self._lock:
            self._drop_old(now)
            found = self._held.pop((_digest(session), key), None)
        return found[1] if found else None

    def _drop_old(self, now: datetime) -> None:
        for k in [k for k, (at, _) in self._held.items() if now - at > KEEP]:
            del self._held[k]


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()
