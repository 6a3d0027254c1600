"""What each backend is sent, built without a network: webhook, Slack, PagerDuty, email."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from drkit.notify.base import EventAction, Notification, Severity
from drkit.notify.email_message import build_message, email_html, email_subject, email_text
from drkit.notify.pagerduty import PagerDutySettings, pagerduty_event
from drkit.notify.slack import COLOURS, RESOLVED_COLOUR, escape, slack_payload
from drkit.notify.webhook import (
    WebhookNotifier,
    WebhookSettings,
    encode,
    sign,
    webhook_payload,
)
from tests.unit.notify.samples import WHEN, sample

# --- Notification ------------------------------------------------------------------------


def test_time_is_normalised_to_utc() -> None:
    cest = timezone(timedelta(hours=2))
    n = Notification(
        action=EventAction.TRIGGER,
        dedup_key="k",
        severity=Severity.INFO,
        summary="s",
        source="x",
        time=datetime(2024, 5, 1, 4, 0, tzinfo=cest),
    )

    assert n.time == datetime(2024, 5, 1, 2, 0, tzinfo=UTC) and n.time.tzinfo is UTC
    assert n.time_text == "2024-05-01T02:00:00Z"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"time": datetime(2024, 5, 1)}, "timezone-aware"),
        ({"summary": "two\nlines"}, "one line"),
        ({"dedup_key": " "}, "dedup_key"),
        ({"details": (("a", "1"), ("a", "2"))}, "repeated keys"),
    ],
)
def test_invalid_notifications(change: dict[str, object], problem: str) -> None:
    fields: dict[str, object] = {
        "action": EventAction.TRIGGER,
        "dedup_key": "k",
        "severity": Severity.INFO,
        "summary": "s",
        "source": "x",
        "time": WHEN,
        **change,
    }
    with pytest.raises(ValueError, match=problem):
        Notification(**fields)  # type: ignore[arg-type]


def test_event_id_is_stable_and_differs_per_event() -> None:
    assert sample().event_id == sample().event_id
    assert len(sample().event_id) == 32
    assert sample().event_id != sample(EventAction.RESOLVE).event_id
    assert sample().event_id != sample(dedup_key="other").event_id


# --- webhook -----------------------------------------------------------------------------


def test_webhook_payload_is_compact_utf8_json() -> None:
    n = sample(summary="Sauvegarde échouée", details=(("size", "3 GiB"),), url=None)

    body = encode(webhook_payload(n, "ops"))

    assert "Sauvegarde échouée".encode() in body
    assert b'"details":{"size":"3 GiB"},"url":null}' in body
    assert b": " not in body and b", " not in body


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1714528807." + body, hashlib.sha256).hexdigest()

    assert sign("k", 1714528807, body) == f"sha256={expected}"


def test_signed_headers_use_the_clock() -> None:
    hook = WebhookNotifier(
        "ops",
        WebhookSettings(url="https://e.com/h", secret_env="S", headers={"X-Team": "a"}),
        environ={"S": "k"},
        clock=lambda: 1714528807.9,
    )
    body = b"{}"

    headers = hook.headers_for(sample(), body)

    assert headers["X-Drkit-Timestamp"] == "1714528807"
    assert headers["X-Drkit-Signature"] == sign("k", 1714528807, body)
    assert (headers["X-Drkit-Event"], headers["X-Team"]) == ("trigger", "a")


# --- Slack -------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", list(Severity))
def test_slack_colour_by_severity(severity: Severity) -> None:
    attachment = slack_payload(sample(severity=severity))["attachments"][0]
    resolved = slack_payload(sample(EventAction.RESOLVE, severity))["attachments"][0]

    assert attachment["color"] == COLOURS[severity]
    assert resolved["color"] == RESOLVED_COLOUR


def test_slack_escapes_mrkdwn_controls() -> None:
    body = slack_payload(sample(summary="a <b> & c", details=(("<k>", "v&"),)))

    assert body["text"] == "[ERROR] a &lt;b&gt; &amp; c"
    fields = body["attachments"][0]["blocks"][1]["fields"]
    assert fields[1]["text"] == "*&lt;k&gt;*\nv&amp;"
    assert escape("<!channel>") == "&lt;!channel&gt;"  # no mass pings from a summary


def test_slack_keeps_ten_fields_at_most() -> None:
    details = tuple((f"k{i}", "v") for i in range(15))

    fields = slack_payload(sample(details=details))["attachments"][0]["blocks"][1]["fields"]

    assert len(fields) == 10
    assert fields[0]["text"].startswith("*source*")
    assert fields[-1]["text"] == "*more*\n7 more details not shown"


# --- PagerDuty ---------------------------------------------------------------------------


def test_pagerduty_resolve_carries_only_the_key_fields() -> None:
    settings = PagerDutySettings(routing_key_env="K")
    event = pagerduty_event(sample(EventAction.RESOLVE), "rk", settings)

    assert event == {"routing_key": "rk", "event_action": "resolve", "dedup_key": "rpo:app:offsite"}


def test_pagerduty_trigger_limits_and_optional_fields() -> None:
    n = sample(summary="x" * 2000, url=None, dedup_key="k" * 300)

    event = pagerduty_event(n, "rk", PagerDutySettings(routing_key_env="K"))

    payload = event["payload"]
    assert isinstance(payload, dict)
    assert len(payload["summary"]) == 1024 and payload["summary"].endswith("…")
    assert len(str(event["dedup_key"])) == 255
    assert "links" not in event and "client_url" not in event
    assert "component" not in payload and "group" not in payload


# --- email -------------------------------------------------------------------------------


def test_email_subject_and_text() -> None:
    assert email_subject(sample(), "[drkit]") == (
        "[drkit] ERROR: RPO missed: newest snapshot of app in offsite is 30h old"
    )
    assert email_subject(sample(EventAction.RESOLVE), "").startswith("RESOLVED: ")
    text = email_text(sample(url=None), "oncall")
    assert "link:" not in text
    assert text.endswith("-- \nSent by drkit notifier 'oncall'.\n")


def test_email_html_escapes_everything() -> None:
    html = email_html(sample(summary="<script>x</script>", details=(("a&b", "<i>"),)), "n")

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<th align="left" style="padding-right:1em">a&amp;b</th><td>&lt;i&gt;</td>' in html


def test_email_message_headers_and_parts() -> None:
    message = build_message(
        sample(),
        notifier="n",
        sender="drkit <drkit@dr.example.com>",
        recipients=["a@example.com", "b@example.com"],
        subject_prefix="[drkit]",
    )

    assert message["To"] == "a@example.com, b@example.com"
    assert message["Date"] == "Wed, 01 May 2024 02:00:07 +0000"
    assert message["Message-ID"] == f"<{sample().event_id}@dr.example.com>"
    assert message["References"].endswith(".alert@dr.example.com>")
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert b"Subject: [drkit] ERROR: RPO missed" in bytes(message)  # not folded after the colon
