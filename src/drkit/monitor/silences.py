"""Silencing an alert for a time: who, why, until when.

A silenced alert stays open and is shown as silenced; :func:`notify_decision`
(used by :func:`drkit.monitor.alerts.reconcile`) sends nothing for it, not
its repeats and not its resolution, until the silence ends. The first
evaluation after the end notifies at once when the condition still holds,
whatever the repeat interval, so a silence never hides an alert for longer
than it says. Silences are set by any face through :func:`silence`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from drkit.catalog import Catalog
from drkit.catalog.tables import AlertRow
from drkit.errors import UsageError

MAX_SILENCE = timedelta(days=90)


class Notify(StrEnum):
    """What an open alert's evaluation sends."""

    NOTHING = "nothing"
    REPEAT = "repeat"  # the interval has passed
    SILENCE_ENDED = "silence-ended"  # held back by a silence that has ended: send now


def silenced(row: AlertRow, now: datetime) -> bool:
    return row.silenced_until is not None and now < row.silenced_until


def notify_decision(
    *,
    acknowledged: bool,
    silenced_until: datetime | None,
    last_notified_at: datetime | None,
    now: datetime,
    repeat_interval: timedelta,
) -> Notify:
    """Whether a firing, already open alert is sent again now (a pure decision)."""
    if silenced_until is not None and now < silenced_until:
        return Notify.NOTHING
    if acknowledged:
        return Notify.NOTHING  # someone is on it: no repeats until it resolves
    if silenced_until is not None:
        return Notify.SILENCE_ENDED
    if last_notified_at and now - last_notified_at < repeat_interval:
        return Notify.NOTHING
    return Notify.REPEAT


def silence(
    catalog: Catalog, alert_id: int, by: str, reason: str, duration: timedelta, now: datetime
) -> AlertRow:
    """Silence open alert ``alert_id`` for ``duration`` (a new silence replaces the old)."""
    from drkit.monitor.alerts import AlertNotFound

    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise UsageError(
            f"a silence of {duration} is out of range",
            hint=f"silence for more than nothing and at most {MAX_SILENCE.days} days",
        )
    if not reason.strip():
        raise UsageError("a silence needs a reason", hint="say why, e.g. 'planned maintenance'")
    with catalog.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None or row.status != "open":
            raise AlertNotFound(f"no open alert {alert_id}", hint="`drkit alerts` lists them")
        row.silenced_until, row.silenced_by, row.silence_reason = now + duration, by, reason
        return row


def unsilence(catalog: Catalog, alert_id: int, now: datetime) -> AlertRow:
    """End the silence of open alert ``alert_id`` now (it is notified at the next evaluation)."""
    from drkit.monitor.alerts import AlertNotFound

    with catalog.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None or row.status != "open" or not silenced(row, now):
            raise AlertNotFound(
                f"no silenced open alert {alert_id}", hint="`drkit alerts` lists them"
            )
        row.silenced_until = now
        return row
