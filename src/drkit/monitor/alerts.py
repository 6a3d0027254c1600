"""Alerts: open, re-send, and resolve them from the firing conditions, and notify.

An alert is keyed by its condition's dedup key. It opens (and notifies)
when the condition first fires, is re-sent every ``repeat_interval`` while
it holds, and resolves (and notifies) when the condition is gone. Every
delivery, good or bad, is recorded; a failing notifier never stops the
others or the bookkeeping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.errors import CatalogError
from drkit.catalog.tables import AlertRow, DeliveryRow
from drkit.monitor.rules import Condition
from drkit.monitor.silences import Notify, notify_decision, silenced
from drkit.notify.base import EventAction, Notification, Severity
from drkit.notify.dispatch import Delivery

log = logging.getLogger(__name__)

Send = Callable[[Notification], Sequence[Delivery]]


class AlertNotFound(CatalogError):
    code = "alert-not-found"
    exit_code = 41


@dataclass(frozen=True)
class AlertChanges:
    opened: tuple[str, ...]
    repeated: tuple[str, ...]
    resolved: tuple[str, ...]


def reconcile(
    catalog: Catalog,
    conditions: Sequence[Condition],
    now: datetime,
    *,
    repeat_interval: timedelta,
    send: Send,
    scope: str | None = None,
) -> AlertChanges:
    """Open, repeat and resolve alerts; with ``scope`` (a dedup key prefix) only the open
    alerts under it are considered, so a caller owning some alerts (e.g. the HA agent's
    split-brain ones) never resolves the others."""
    firing = {c.dedup_key: c for c in conditions}
    opened, repeated, resolved = [], [], []
    outbox: list[tuple[int, Notification]] = []
    with catalog.session() as session:
        open_rows = {
            r.dedup_key: r
            for r in session.scalars(select(AlertRow).where(AlertRow.status == "open"))
            if scope is None or r.dedup_key.startswith(scope)
        }
        for key, cond in firing.items():
            row = open_rows.get(key)
            if row is None:
                row = _open(cond, now)
                session.add(row)
                session.flush()
                opened.append(key)
            else:
                _refresh(row, cond, now)
                send_now = notify_decision(
                    acknowledged=row.acknowledged_at is not None,
                    silenced_until=row.silenced_until,
                    last_notified_at=row.last_notified_at,
                    now=now,
                    repeat_interval=repeat_interval,
                )
                if send_now is Notify.NOTHING:
                    continue
                if send_now is Notify.SILENCE_ENDED:
                    row.silenced_until = None  # it has said what it held back
                repeated.append(key)
            row.last_notified_at, row.notify_count = now, row.notify_count + 1
            outbox.append((row.id, _notification(row, EventAction.TRIGGER, now)))
        for key, row in open_rows.items():
            if key not in firing:
                row.status, row.resolved_at = "resolved", now
                resolved.append(key)
                if not silenced(row, now):  # a silenced alert is not notified, resolved either
                    outbox.append((row.id, _notification(row, EventAction.RESOLVE, now)))
    for alert_id, notification in outbox:
        _deliver(catalog, alert_id, notification, send)
    return AlertChanges(tuple(opened), tuple(repeated), tuple(resolved))


def _open(cond: Condition, now: datetime) -> AlertRow:
    return AlertRow(
        dedup_key=cond.dedup_key,
        status="open",
        severity=cond.severity.value,
        summary=cond.summary,
        source=cond.source,
        details_json=json.dumps(cond.details),
        first_seen=now,
        last_seen=now,
        notify_count=0,
    )


def _refresh(row: AlertRow, cond: Condition, now: datetime) -> None:
    row.last_seen = now
    row.severity, row.summary, row.source = cond.severity.value, cond.summary, cond.source
    row.details_json = json.dumps(cond.details)


def _notification(row: AlertRow, action: EventAction, now: datetime) -> Notification:
    details = tuple((str(k), str(v)) for k, v in json.loads(row.details_json or "[]"))
    details += (("first_seen", row.first_seen.isoformat()),)
    summary = row.summary if action is EventAction.TRIGGER else f"resolved: {row.summary}"
    return Notification(
        action=action,
        dedup_key=row.dedup_key,
        severity=Severity(row.severity),
        summary=summary,
        source=row.source,
        time=now,
        details=_unique(details),
    )


def _unique(details: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for key, value in details:
        seen.setdefault(key, value)
    return tuple(seen.items())


def _deliver(catalog: Catalog, alert_id: int, notification: Notification, send: Send) -> None:
    try:
        deliveries = send(notification)
    except Exception:  # the notifiers' problem must not undo the alert bookkeeping
        log.exception("sending alert %s", notification.dedup_key)
        return
    with catalog.session() as session:
        for d in deliveries:
            session.add(
                DeliveryRow(
                    alert_id=alert_id,
                    notifier=d.notifier,
                    action=notification.action.value,
                    ok=d.ok,
                    attempts=d.attempts,
                    error=d.error,
                    sent_at=d.started,
                    duration_s=d.duration_s,
                )
            )


def alert_json(a: AlertRow, now: datetime | None = None) -> dict[str, Any]:
    """One alert as `drkit alerts --json` and the API show it (silenced as of ``now``)."""
    quiet = silenced(a, now or datetime.now(UTC))
    return {
        "id": a.id,
        "key": a.dedup_key,
        "severity": a.severity,
        "summary": a.summary,
        "source": a.source,
        "first_seen": a.first_seen,
        "last_seen": a.last_seen,
        "notifications": a.notify_count,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": a.acknowledged_at,
        "ack_comment": a.ack_comment,
        "silenced": quiet,
        "silenced_until": a.silenced_until if quiet else None,
        "silenced_by": a.silenced_by if quiet else None,
        "silence_reason": a.silence_reason if quiet else None,
    }


def acknowledge(catalog: Catalog, alert_id: int, by: str, comment: str, now: datetime) -> AlertRow:
    """Mark an open alert as taken on (repeats stop); AlertNotFound for no such open alert."""
    with catalog.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None or row.status != "open":
            raise AlertNotFound(f"no open alert {alert_id}", hint="`drkit alerts` lists them")
        row.acknowledged_by, row.acknowledged_at, row.ack_comment = by, now, comment
        return row


def open_alerts(catalog: Catalog) -> list[AlertRow]:
    with catalog.session() as session:
        query = select(AlertRow).where(AlertRow.status == "open").order_by(AlertRow.first_seen)
        return list(session.scalars(query))
