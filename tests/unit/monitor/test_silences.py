"""Silences: the notify decision as a table, and reconcile on a real SQLite catalog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.errors import UsageError
from drkit.monitor.alerts import AlertNotFound, alert_json, open_alerts, reconcile
from drkit.monitor.rules import Condition
from drkit.monitor.silences import Notify, notify_decision, silence, unsilence
from drkit.notify.base import Notification, Severity
from drkit.notify.dispatch import Delivery

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("acknowledged", "until", "last", "want"),
    [
        (False, None, NOW - 2 * H, Notify.REPEAT),  # the interval passed
        (False, None, NOW - H / 2, Notify.NOTHING),  # not yet
        (False, NOW + H, NOW - 2 * H, Notify.NOTHING),  # silenced
        (False, NOW - H / 60, NOW - H / 2, Notify.SILENCE_ENDED),  # ended: at once
        (True, None, NOW - 2 * H, Notify.NOTHING),  # acknowledged
        (True, NOW - H / 60, NOW - 2 * H, Notify.NOTHING),  # acknowledged, silence over
    ],
)
def test_the_notify_decision(
    acknowledged: bool, until: datetime | None, last: datetime, want: Notify
) -> None:
    got = notify_decision(
        acknowledged=acknowledged,
        silenced_until=until,
        last_notified_at=last,
        now=NOW,
        repeat_interval=H,
    )
    assert got is want


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, n: Notification) -> Sequence[Delivery]:
        self.sent.append((n.action.value, n.dedup_key))
        return []


COND = Condition("rpo:app:local", Severity.CRITICAL, "RPO missed", "app")


def _reconcile(catalog: Catalog, firing: list[Condition], now: datetime, out: Outbox) -> None:
    reconcile(catalog, firing, now, repeat_interval=H, send=out)


def test_a_silenced_alert_is_not_notified_until_the_silence_ends(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    out = Outbox()
    _reconcile(catalog, [COND], NOW, out)
    assert out.sent == [("trigger", COND.dedup_key)]
    alert_id = open_alerts(catalog)[0].id
    silence(catalog, alert_id, "alice", "planned maintenance", 3 * H, NOW)
    shown = alert_json(open_alerts(catalog)[0], NOW + H)
    assert shown["silenced"] is True and shown["silenced_by"] == "alice"
    assert shown["silence_reason"] == "planned maintenance"
    for hours in (1, 2):  # repeats would be due each hour
        _reconcile(catalog, [COND], NOW + hours * H + H / 60, out)
    assert len(out.sent) == 1
    _reconcile(catalog, [COND], NOW + 3 * H + H / 60, out)  # ended: sent at once
    assert out.sent[-1] == ("trigger", COND.dedup_key) and len(out.sent) == 2
    assert alert_json(open_alerts(catalog)[0], NOW + 4 * H)["silenced"] is False
    _reconcile(catalog, [COND], NOW + 3 * H + H / 2, out)  # and then the normal interval
    assert len(out.sent) == 2
    catalog.close()


def test_a_silenced_alert_resolves_quietly_and_an_unsilenced_one_is_sent(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    out = Outbox()
    other = Condition("rpo:db:local", Severity.WARNING, "RPO missed", "db")
    _reconcile(catalog, [COND, other], NOW, out)
    first, second = (a.id for a in open_alerts(catalog))
    silence(catalog, first, "alice", "known", H, NOW)
    silence(catalog, second, "alice", "known", H, NOW)
    unsilence(catalog, second, NOW + H / 60)
    _reconcile(catalog, [other], NOW + H / 30, out)  # COND resolved while silenced
    assert out.sent[2:] == [("trigger", other.dedup_key)]
    with pytest.raises(AlertNotFound):
        silence(catalog, first, "alice", "gone", H, NOW)  # resolved: no longer open
    with pytest.raises(UsageError):
        silence(catalog, second, "alice", " ", H, NOW)
    with pytest.raises(UsageError):
        silence(catalog, second, "alice", "forever", timedelta(days=365), NOW)
    catalog.close()
