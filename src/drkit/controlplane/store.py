"""The small lease store the control-plane loop needs, and its in-memory double for tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from drkit.errors import DrkitError


class LeaseUnavailable(DrkitError):
    """The lease store did not answer: nobody can be known to be active."""

    code = "control-plane-unavailable"
    exit_code = 70
    default_hint = "check that a majority of the etcd members run and are reachable"


@dataclass(frozen=True)
class Holding:
    """Who holds the lease after one attempt to take or renew it."""

    holder: str | None
    expires_in_s: float | None = None


class LeaseStore(Protocol):
    def take(self, name: str) -> Holding:
        """Renew our lease, or take it if nobody holds it; say who holds it after.

        Raises LeaseUnavailable when the store does not answer in its timeout.
        """
        ...

    def release(self, name: str) -> None:
        """Give the lease up if ``name`` holds it (best effort; never raises)."""
        ...

    def close(self) -> None: ...


class MemoryLeaseStore:
    """One in-process lease shared by several clients (unit tests of the loop)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.holder: str | None = None
        self.expires = 0.0
        self.down = False
        self._lock = threading.Lock()

    def take(self, name: str) -> Holding:
        with self._lock:
            if self.down:
                raise LeaseUnavailable("memory lease store is down")
            now = time.monotonic()
            if self.holder is None or now >= self.expires or self.holder == name:
                self.holder, self.expires = name, now + self.ttl_s
            return Holding(self.holder, self.expires - now)

    def release(self, name: str) -> None:
        with self._lock:
            if self.holder == name:
                self.holder = None

    def close(self) -> None:
        pass
