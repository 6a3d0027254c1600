"""The notifier interface: what a notification is, and what a backend must do with it.

A :class:`Notification` is one event about one alert: it fires (``trigger``)
or it ends (``resolve``). The same ``dedup_key`` is used for every event of one
alert, so receivers that understand incidents (PagerDuty, a ticket system
behind a webhook) update one incident instead of opening a new one each time.

A :class:`Notifier` delivers a notification to one configured backend. Its
contract:

- ``send`` either returns (the backend accepted the event) or raises a
  :class:`~drkit.notify.errors.NotifyError`; ``error.transient`` says whether
  trying again later may succeed. Nothing else escapes.
- ``send`` never waits longer than the backend's own timeout for one attempt;
  it does not retry by itself (retries and backoff belong to
  :func:`drkit.notify.dispatch.deliver`).
- ``send`` may be called from several threads at once.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Severity(StrEnum):
    """How bad it is; the four levels of PagerDuty's Events API v2."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class EventAction(StrEnum):
    """An alert starts (or is re-sent while open) or ends."""

    TRIGGER = "trigger"
    RESOLVE = "resolve"


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One event about one alert, as every backend receives it.

    Fields are keyword-only. ``time`` must be timezone-aware (it is stored in
    UTC); ``summary`` is one line; the keys of ``details`` are unique and keep
    their order.
    """

    action: EventAction
    dedup_key: str
    severity: Severity
    summary: str
    source: str
    time: datetime
    details: tuple[tuple[str, str], ...] = ()
    url: str | None = None

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("Notification.time must be timezone-aware")
        if self.time.utcoffset() != timedelta(0):
            object.__setattr__(self, "time", self.time.astimezone(UTC))
        if not self.dedup_key.strip():
            raise ValueError("Notification.dedup_key must not be empty")
        if "\n" in self.summary or "\r" in self.summary:
            raise ValueError("Notification.summary must be one line")
        keys = [key for key, _ in self.details]
        if len(set(keys)) != len(keys):
            raise ValueError(f"Notification.details has repeated keys: {keys}")

    @property
    def resolved(self) -> bool:
        return self.action is EventAction.RESOLVE

    @property
    def status(self) -> str:
        """``RESOLVED`` for a resolve event, else the severity in capitals."""
        return "RESOLVED" if self.resolved else self.severity.value.upper()

    @property
    def time_text(self) -> str:
        """The time as ISO 8601 UTC with a ``Z``, to the second: ``2024-05-01T02:00:00Z``."""
        return self.time.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def event_id(self) -> str:
        """32 hex digits naming this event; the same on every retry, so receivers can dedup."""
        key = f"{self.dedup_key}\0{self.action.value}\0{self.time.isoformat()}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


class Notifier(ABC):
    """One configured notification backend (see the module docstring for the contract)."""

    name: str
    """The notifier's name in drkit.yaml (``notifiers: {NAME: ...}``)."""

    type: str = "notifier"
    """The driver's ``type`` in drkit.yaml (``webhook``, ``slack``, ...)."""

    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Deliver ``notification`` once; raise NotifyError if the backend did not take it."""

    def describe(self) -> str:
        """Where this notifier delivers, for listings; never shows a secret."""
        return self.type

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
