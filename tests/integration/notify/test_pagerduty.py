"""PagerDuty Events API v2 against a local receiver that answers as PagerDuty does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drkit.notify.base import EventAction, Severity
from drkit.notify.dispatch import deliver
from drkit.notify.errors import NotifyRejected
from drkit.notify.pagerduty import PagerDutyNotifier, PagerDutySettings
from tests.fixtures.receivers import HttpReceiver, Reply
from tests.unit.notify.samples import sample

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
ACCEPTED = Reply(
    202,
    json.dumps({"status": "success", "message": "Event processed"}).encode(),
    "application/json",
)


def pagerduty(receiver: HttpReceiver, **settings: object) -> PagerDutyNotifier:
    config = PagerDutySettings(
        url=receiver.url("/v2/enqueue"), routing_key_env="PD_KEY", **settings
    )
    return PagerDutyNotifier("pager", config, environ={"PD_KEY": ROUTING_KEY})


def test_trigger_then_resolve_with_the_same_dedup_key(http_receiver: HttpReceiver) -> None:
    http_receiver.reply_with(ACCEPTED)
    notifier = pagerduty(http_receiver, component="backups", group="app")

    notifier.send(sample(severity=Severity.CRITICAL))
    notifier.send(sample(EventAction.RESOLVE))

    trigger, resolve = (r.json() for r in http_receiver.wait_for(2))
    assert trigger == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "rpo:app:offsite",
        "client": "drkit",
        "client_url": "https://drkit.example.com/alerts/7",
        "links": [{"href": "https://drkit.example.com/alerts/7", "text": "drkit"}],
        "payload": {
            "summary": "RPO missed: newest snapshot of app in offsite is 30h old",
            "source": "policy app / repository offsite",
            "severity": "critical",
            "timestamp": "2024-05-01T02:00:07Z",
            "component": "backups",
            "group": "app",
            "custom_details": {"objective": "24h", "age": "30h"},
        },
    }
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "rpo:app:offsite",
    }
    assert {r.path for r in http_receiver.requests} == {"/v2/enqueue"}


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_maps_to_pagerdutys(http_receiver: HttpReceiver, severity: Severity) -> None:
    http_receiver.reply_with(ACCEPTED)
    pagerduty(http_receiver).send(sample(severity=severity))

    assert http_receiver.wait_for(1)[0].json()["payload"]["severity"] == severity.value


def test_routing_key_from_a_file(http_receiver: HttpReceiver, tmp_path: Path) -> None:
    http_receiver.reply_with(ACCEPTED)
    key_file = tmp_path / "pd.key"
    key_file.write_text(ROUTING_KEY + "\n")
    config = PagerDutySettings(url=http_receiver.url(), routing_key_file=key_file)
    PagerDutyNotifier("pager", config, environ={}).send(sample())

    assert http_receiver.wait_for(1)[0].json()["routing_key"] == ROUTING_KEY


def test_throttling_is_retried(http_receiver: HttpReceiver) -> None:
    http_receiver.reply_with(ACCEPTED)
    http_receiver.fail(times=1, status=429, body=b'{"status": "throttle event"}')

    (delivery,) = deliver(sample(), [pagerduty(http_receiver)], sleep=lambda s: None)

    assert delivery.ok and delivery.attempts == 2


def test_an_invalid_event_is_refused_with_pagerdutys_reason(http_receiver: HttpReceiver) -> None:
    http_receiver.reply_with(
        Reply(400, b'{"status":"invalid event","errors":["Event object is invalid"]}')
    )

    with pytest.raises(NotifyRejected, match="Event object is invalid"):
        pagerduty(http_receiver).send(sample())
    assert ROUTING_KEY not in pagerduty(http_receiver).describe()
