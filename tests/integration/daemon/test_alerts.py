"""Alerts end to end: fire, repeat while open, resolve; delivered to real HTTP receivers."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from drkit.catalog.runs import RunJournal, RunStatus
from drkit.catalog.tables import AlertRow, DeliveryRow
from tests.fixtures.receivers import (
    HttpReceiver,
)
from tests.integration.daemon.conftest import DEFAULT_POLICY, DaemonHome


def notifiers(webhook: HttpReceiver, pagerduty: HttpReceiver, repeat: str = "4h") -> str:
    return (
        "notifiers:\n"
        f"  hook:\n    type: webhook\n    url: {webhook.url('/hook')}\n"
        f"  pager:\n    type: pagerduty\n    url: {pagerduty.url('/v2/enqueue')}\n"
        "    routing_key_env: DRKIT_TEST_ROUTING_KEY\n"
        f"alerts:\n  repeat_interval: {repeat}\n"
    )


def events(receiver: HttpReceiver, key: str) -> list[str]:
    return [r.json()["action"] for r in receiver.requests if r.json()["dedup_key"] == key]


def pd_events(receiver: HttpReceiver, key: str) -> list[str]:
    return [r.json()["event_action"] for r in receiver.requests if r.json()["dedup_key"] == key]


def first_backup_slot_passed(home: DaemonHome) -> None:
    """The policy's first scheduled backup ran (and made nothing): its RPO is judged now."""
    journal = RunJournal.start(home.catalog(), kind="backup", subject="app", job="backup:app")
    journal.finish(RunStatus.FAILED, error="the source was not there yet")


def test_rpo_alert_fires_then_resolves_after_a_verified_backup(
    home: DaemonHome, make_http_receiver: Callable[..., HttpReceiver]
) -> None:
    webhook, pager = make_http_receiver(), make_http_receiver()
    home.env["DRKIT_TEST_ROUTING_KEY"] = "R0UT1NGKEY"
    home.write_settings(extra=notifiers(webhook, pager))

    home.drkit("serve", "--once").check()  # a new policy: judged after its first slot
    assert events(webhook, "rpo:app:local") == []
    first_backup_slot_passed(home)
    home.drkit("serve", "--once").check()  # no snapshot at all: the RPO is missed
    assert events(webhook, "rpo:app:local") == ["trigger"]
    assert pd_events(pager, "rpo:app:local") == ["trigger"]
    (trigger,) = [r.json() for r in webhook.requests if r.json()["dedup_key"] == "rpo:app:local"]
    assert trigger["severity"] == "error" and "no snapshot yet" in trigger["summary"]
    listing = home.drkit("alerts", "--json").check().stdout
    assert "rpo:app:local" in listing

    home.drkit("run-job", "backup:app").check()
    home.drkit("serve", "--once").check()  # a snapshot, but not verified yet: still open
    assert events(webhook, "rpo:app:local") == ["trigger"]  # not re-sent within 4h

    home.drkit("run-job", "check:app:local").check()
    home.drkit("serve", "--once").check()
    assert events(webhook, "rpo:app:local") == ["trigger", "resolve"]
    assert pd_events(pager, "rpo:app:local") == ["trigger", "resolve"]
    assert "rpo:app:local" not in home.drkit("alerts", "--json").check().stdout


def test_an_open_alert_is_resent_at_the_repeat_interval(
    home: DaemonHome, make_http_receiver: Callable[..., HttpReceiver]
) -> None:
    webhook, pager = make_http_receiver(), make_http_receiver()
    home.env["DRKIT_TEST_ROUTING_KEY"] = "R0UT1NGKEY"
    home.write_settings(extra=notifiers(webhook, pager, repeat="1s"))
    first_backup_slot_passed(home)
    home.drkit("serve", "--once").check()
    time.sleep(1.1)
    home.drkit("serve", "--once").check()
    assert events(webhook, "rpo:app:local") == ["trigger", "trigger"]
    with home.catalog().session() as session:
        alert = session.scalars(select(AlertRow).where(AlertRow.dedup_key == "rpo:app:local")).one()
        assert alert.status == "open" and alert.notify_count == 2


def test_a_failing_notifier_is_retried_and_recorded_and_never_blocks_the_other(
    home: DaemonHome, make_http_receiver: Callable[..., HttpReceiver]
) -> None:
    webhook, pager = make_http_receiver(), make_http_receiver()
    pager.fail(times=100, status=503)
    home.env["DRKIT_TEST_ROUTING_KEY"] = "R0UT1NGKEY"
    home.write_settings(extra=notifiers(webhook, pager))
    first_backup_slot_passed(home)
    home.drkit("serve", "--once").check()
    assert events(webhook, "rpo:app:local") == ["trigger"]
    assert len(pager.requests) > 1  # retried
    with home.catalog().session() as session:
        rows = session.scalars(select(DeliveryRow)).all()
    by_notifier = {(d.notifier, d.ok) for d in rows}
    assert ("hook", True) in by_notifier and ("pager", False) in by_notifier
    failed = next(d for d in rows if d.notifier == "pager")
    assert failed.attempts > 1 and "503" in (failed.error or "")


def test_a_failed_job_raises_an_alert_until_it_succeeds(
    home: DaemonHome, make_http_receiver: Callable[..., HttpReceiver]
) -> None:
    webhook, pager = make_http_receiver(), make_http_receiver()
    home.env["DRKIT_TEST_ROUTING_KEY"] = "R0UT1NGKEY"
    missing = DEFAULT_POLICY.replace("[{source}]", "[{source}/missing]")
    home.write_settings(policy=missing, extra=notifiers(webhook, pager))
    assert home.drkit("run-job", "backup:app").returncode != 0
    home.drkit("serve", "--once").check()
    assert events(webhook, "job:backup:app") == ["trigger"]
    home.write_settings(extra=notifiers(webhook, pager))
    home.drkit("run-job", "backup:app").check()
    home.drkit("serve", "--once").check()
    assert events(webhook, "job:backup:app") == ["trigger", "resolve"]
