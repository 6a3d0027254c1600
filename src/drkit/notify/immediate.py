"""Sending one event now, outside the daemon's alert rules (e.g. a refused WAL push).

The daemon's alerts open and resolve from conditions it can observe; some
events are only seen by the command that meets them. Those are delivered at
once through the notifiers chosen for alerts (``alerts.notifiers``, default
all). A delivery problem is logged and never changes the command's outcome.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from drkit.notify.base import EventAction, Notification, Notifier, Severity
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.registry import build_notifier, select
from drkit.settings.model import Settings

log = logging.getLogger(__name__)


def alert_notifiers(settings: Settings) -> list[Notifier]:
    """The notifiers alerts go to: ``alerts.notifiers``, or every configured one."""
    names = settings.alerts.notifiers
    chosen = sorted(settings.notifiers) if names is None else names
    return [build_notifier(name, select(settings.notifiers, name)) for name in chosen]


def notify_now(
    settings: Settings,
    *,
    dedup_key: str,
    severity: Severity,
    summary: str,
    source: str,
    details: tuple[tuple[str, str], ...] = (),
) -> list[Delivery]:
    """Trigger one notification through the alert notifiers; [] when none are configured."""
    if not settings.notifiers:
        return []
    event = Notification(
        action=EventAction.TRIGGER,
        dedup_key=dedup_key,
        severity=severity,
        summary=summary,
        source=source,
        time=datetime.now(UTC),
        details=details,
    )
    try:
        notifiers = alert_notifiers(settings)
        deliveries = deliver(event, notifiers) if notifiers else []
    except Exception as exc:  # the event is also in the command's own error and log
        log.error("could not send %r: %s", summary, exc)
        return []
    for failed in (d for d in deliveries if not d.ok):
        log.error("notifier %s did not take %r: %s", failed.notifier, summary, failed.error)
    return deliveries
