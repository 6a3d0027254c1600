"""A notifier that keeps what it is sent in memory: for tests of the code that notifies.

``MemoryNotifier.sent`` lists every accepted notification in order. Tests of
retries and failures queue errors with :meth:`MemoryNotifier.fail_next`; each
send raises the next queued error instead of accepting. ``type: memory`` in
drkit.yaml builds one too (useful only within one process).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Literal

from drkit.notify.base import Notification, Notifier
from drkit.notify.config import NotifierModel
from drkit.notify.errors import NotifyError
from drkit.plugins import Plugin


class MemorySettings(NotifierModel):
    """``type: memory``: keep notifications in memory (tests only)."""

    type: Literal["memory"] = "memory"

    def target(self) -> str:
        return "in memory (tests only)"


class MemoryNotifier(Notifier):
    """Records notifications; thread-safe."""

    type = "memory"

    def __init__(self, name: str = "memory", settings: MemorySettings | None = None) -> None:
        self.name = name
        self.settings = settings or MemorySettings()
        self._lock = threading.Lock()
        self._sent: list[Notification] = []
        self._failures: deque[NotifyError] = deque()
        self.attempts = 0

    def describe(self) -> str:
        return self.settings.target()

    def fail_next(self, errors: NotifyError | Iterable[NotifyError]) -> None:
        """Make the next sends raise these errors, one per send, before accepting again."""
        with self._lock:
            self._failures.extend([errors] if isinstance(errors, NotifyError) else errors)

    @property
    def sent(self) -> list[Notification]:
        """A copy of the accepted notifications, oldest first."""
        with self._lock:
            return list(self._sent)

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.attempts += 1
            if self._failures:
                raise self._failures.popleft()
            self._sent.append(notification)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
            self._failures.clear()
            self.attempts = 0


def build(
    settings: MemorySettings, name: str, environ: Mapping[str, str] | None = None
) -> MemoryNotifier:
    """A memory notifier named ``name`` (it has no secrets to read)."""
    return MemoryNotifier(name, settings)


PLUGIN = Plugin("memory", MemorySettings, build, "in-memory notifier (tests)")
