"""Notifications: send alerts to webhooks, Slack, email and PagerDuty.

- :mod:`drkit.notify.base`: :class:`Notification`, :class:`Notifier`, severities.
- :mod:`drkit.notify.dispatch`: :func:`deliver` to many notifiers at once, with
  retries and a deadline, returning one :class:`Delivery` per notifier.
- :mod:`drkit.notify.registry`: :func:`build_notifier` from drkit.yaml settings.
- one module per driver: webhook, slack, email (+ smtp), pagerduty, memory.
- :mod:`drkit.notify.errors`: the errors (exit codes 30 and 31).

Nothing here imports httpx or smtplib until something is sent.
"""

from __future__ import annotations

from drkit.notify.base import EventAction, Notification, Notifier, Severity
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.errors import (
    NotifierConfigError,
    NotifierNotFound,
    NotifierSecretMissing,
    NotifyAuthError,
    NotifyError,
    NotifyRejected,
    NotifyTransientError,
    UnknownNotifierType,
)
from drkit.notify.memory import MemoryNotifier
from drkit.notify.registry import build_notifier, build_notifiers, notifier_types

__all__ = [
    "Delivery",
    "EventAction",
    "MemoryNotifier",
    "Notification",
    "Notifier",
    "NotifierConfigError",
    "NotifierNotFound",
    "NotifierSecretMissing",
    "NotifyAuthError",
    "NotifyError",
    "NotifyRejected",
    "NotifyTransientError",
    "Severity",
    "UnknownNotifierType",
    "build_notifier",
    "build_notifiers",
    "deliver",
    "notifier_types",
]
