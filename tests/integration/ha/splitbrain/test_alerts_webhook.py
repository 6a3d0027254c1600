"""Split-brain alerts through the real alert machinery to a real webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from drkit.catalog import Catalog
from drkit.ha.splitbrain.alerts import reconcile_split_brain
from drkit.ha.splitbrain.detect import detect
from drkit.ha.splitbrain.facts import DbFact, Facts
from drkit.monitor.alerts import open_alerts, reconcile
from drkit.monitor.rules import Condition
from drkit.notify.base import Notification, Severity
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.webhook import WebhookNotifier, WebhookSettings
from tests.fixtures.receivers import HttpReceiver

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TWO = Facts(
    databases=(
        DbFact("east", True, writable=True, timeline=1, lsn=0x3000060),
        DbFact("west", True, writable=True, timeline=2, lsn=0x3000100),
    ),
    sites=("east", "west"),
)
HEALED = Facts(databases=(DbFact("east", True, writable=True, timeline=1, lsn=0x3000200),))


def test_two_primaries_alert_opens_once_with_evidence_and_resolves_when_healed(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    hook = WebhookNotifier("ops", WebhookSettings(url=http_receiver.url("/hook")))

    def send(n: Notification) -> list[Delivery]:
        return deliver(n, [hook])

    other = Condition("rpo:app:offsite", Severity.ERROR, "RPO missed", "policy app")
    reconcile(catalog, [other], T0, repeat_interval=timedelta(hours=1), send=send)
    http_receiver.wait_for(1)

    def cycle(facts: Facts, minutes: int) -> None:
        reconcile_split_brain(
            catalog,
            detect(facts),
            "pg",
            T0 + timedelta(minutes=minutes),
            repeat_interval=timedelta(hours=1),
            send=send,
        )

    cycle(TWO, 1)
    cycle(TWO, 2)  # still split: deduplicated, nothing sent
    (_, trigger) = http_receiver.wait_for(2)
    body = trigger.json()
    assert body["action"] == "trigger"
    assert body["severity"] == "critical"
    assert body["dedup_key"] == "ha-splitbrain:pg:two-primaries:east+west"
    assert body["details"]["east"] == "writable, timeline 1, lsn 0/3000060"
    assert body["details"]["west"] == "writable, timeline 2, lsn 0/3000100"

    cycle(HEALED, 3)
    requests = http_receiver.wait_for(3)
    assert len(requests) == 3
    resolved = requests[2].json()
    assert (resolved["action"], resolved["dedup_key"]) == ("resolve", body["dedup_key"])
    assert [a.dedup_key for a in open_alerts(catalog)] == ["rpo:app:offsite"]  # left alone
