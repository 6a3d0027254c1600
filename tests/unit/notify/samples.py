"""Sample notifications shared by the notify tests."""

from __future__ import annotations

from datetime import UTC, datetime

from drkit.notify.base import EventAction, Notification, Severity

WHEN = datetime(2024, 5, 1, 2, 0, 7, 123456, tzinfo=UTC)


def sample(
    action: EventAction = EventAction.TRIGGER,
    severity: Severity = Severity.ERROR,
    *,
    summary: str = "RPO missed: newest snapshot of app in offsite is 30h old",
    details: tuple[tuple[str, str], ...] = (("objective", "24h"), ("age", "30h")),
    url: str | None = "https://drkit.example.com/alerts/7",
    dedup_key: str = "rpo:app:offsite",
) -> Notification:
    return Notification(
        action=action,
        dedup_key=dedup_key,
        severity=severity,
        summary=summary,
        source="policy app / repository offsite",
        time=WHEN,
        details=details,
        url=url,
    )
