"""The webhook driver against a real HTTP(S) receiver: payload, HMAC signature, headers, errors."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drkit.notify.base import EventAction
from drkit.notify.dispatch import deliver
from drkit.notify.errors import NotifyAuthError, NotifyRejected, NotifyTransientError
from drkit.notify.webhook import WebhookNotifier, WebhookSettings
from tests.fixtures.receivers import (
    HttpReceiver,
    ReceivedRequest,
    Reply,
    TlsFiles,
)
from tests.unit.notify.samples import WHEN, sample

SECRET = "whsec-3f9a7c"
REPLAY_WINDOW_S = 300


def receiver_accepts(request: ReceivedRequest, secret: str, now: float) -> bool:
    """What a receiver does (docs/notifications.md): fresh timestamp, HMAC over 'TS.' + body."""
    timestamp = request.header("X-Drkit-Timestamp")
    signature = request.header("X-Drkit-Signature")
    if timestamp is None or signature is None or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > REPLAY_WINDOW_S:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(signature, "sha256=" + mac.hexdigest())


def notifier(url: str, **settings: object) -> WebhookNotifier:
    environ = {"HOOK_SECRET": SECRET, "HOOK_TOKEN": "Bearer t0k3n"}
    return WebhookNotifier("ops", WebhookSettings(url=url, **settings), environ=environ)


def test_payload_fields_and_event_headers(http_receiver: HttpReceiver) -> None:
    notifier(http_receiver.url("/drkit")).send(sample())

    (request,) = http_receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/drkit")
    assert request.header("content-type") == "application/json"
    assert request.json() == {
        "version": 1,
        "event_id": sample().event_id,
        "notifier": "ops",
        "action": "trigger",
        "dedup_key": "rpo:app:offsite",
        "severity": "error",
        "summary": "RPO missed: newest snapshot of app in offsite is 30h old",
        "source": "policy app / repository offsite",
        "time": "2024-05-01T02:00:07Z",
        "details": {"objective": "24h", "age": "30h"},
        "url": "https://drkit.example.com/alerts/7",
    }
    assert list(request.json()["details"]) == ["objective", "age"]  # order kept
    assert request.header("x-drkit-event") == "trigger"
    assert request.header("x-drkit-event-id") == sample().event_id
    assert request.header("x-drkit-signature") is None  # no secret, no signature
    assert (request.header("user-agent") or "").startswith("drkit/")


def test_signature_verifies_as_a_receiver_checks_it(http_receiver: HttpReceiver) -> None:
    hook = notifier(http_receiver.url(), secret_env="HOOK_SECRET")
    hook.send(sample())
    hook.send(sample(EventAction.RESOLVE))

    first, second = http_receiver.wait_for(2)
    now = time.time()
    assert receiver_accepts(first, SECRET, now)
    assert receiver_accepts(second, SECRET, now)
    assert second.json()["action"] == "resolve"
    assert second.header("x-drkit-event-id") != first.header("x-drkit-event-id")
    # what a receiver must refuse: another secret, a changed body, a replayed old request
    assert not receiver_accepts(first, "another-secret", now)
    forged = ReceivedRequest(first.method, first.path, first.headers, first.body + b" ")
    assert not receiver_accepts(forged, SECRET, now)
    assert not receiver_accepts(first, SECRET, now + REPLAY_WINDOW_S + 60)


def test_secret_from_a_file(http_receiver: HttpReceiver, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET + "\n")
    settings = WebhookSettings(url=http_receiver.url(), secret_file=secret_file)
    WebhookNotifier("ops", settings, environ={}).send(sample())

    (request,) = http_receiver.wait_for(1)
    assert receiver_accepts(request, SECRET, time.time())


def test_custom_headers_and_secret_headers(http_receiver: HttpReceiver) -> None:
    hook = notifier(
        http_receiver.url(),
        headers={"X-Team": "platform"},
        header_env={"Authorization": "HOOK_TOKEN"},
    )
    hook.send(sample())

    (request,) = http_receiver.wait_for(1)
    assert request.header("x-team") == "platform"
    assert request.header("authorization") == "Bearer t0k3n"


def test_https_with_the_receivers_ca(
    make_http_receiver: Callable[..., HttpReceiver], tls_certificate: TlsFiles
) -> None:
    receiver = make_http_receiver(tls=True)
    notifier(receiver.url(), ca_file=tls_certificate.cert).send(sample())

    assert receiver.wait_for(1)[0].json()["dedup_key"] == "rpo:app:offsite"


def test_https_with_an_untrusted_certificate_is_refused_not_retried(
    make_http_receiver: Callable[..., HttpReceiver],
) -> None:
    receiver = make_http_receiver(tls=True)

    with pytest.raises(NotifyRejected) as caught:
        notifier(receiver.url()).send(sample())
    assert "not trusted" in caught.value.message
    assert "ca_file" in caught.value.hint
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("status", "error", "transient"),
    [
        (500, NotifyTransientError, True),
        (503, NotifyTransientError, True),
        (429, NotifyTransientError, True),
        (400, NotifyRejected, False),
        (404, NotifyRejected, False),
        (401, NotifyAuthError, False),
        (403, NotifyAuthError, False),
    ],
)
def test_http_status_is_translated(
    http_receiver: HttpReceiver, status: int, error: type[Exception], transient: bool
) -> None:
    http_receiver.reply_with(Reply(status, b'{"error": "nope"}'))

    with pytest.raises(error) as caught:
        notifier(http_receiver.url()).send(sample())
    assert f"HTTP {status}" in str(caught.value)
    assert '"error": "nope"' in str(caught.value)  # the receiver's reason is quoted
    assert caught.value.transient is transient  # type: ignore[attr-defined]


def test_a_400_is_reported_once_without_retries(http_receiver: HttpReceiver) -> None:
    http_receiver.reply_with(Reply(400, b"invalid payload"))

    (delivery,) = deliver(sample(), [notifier(http_receiver.url())], sleep=lambda s: None)

    assert not delivery.ok and delivery.attempts == 1
    assert "HTTP 400" in (delivery.error or "") and "invalid payload" in (delivery.error or "")
    assert len(http_receiver.requests) == 1


def test_500s_are_retried_until_the_receiver_takes_it(http_receiver: HttpReceiver) -> None:
    http_receiver.fail(times=2, status=500)
    delays: list[float] = []

    (delivery,) = deliver(sample(), [notifier(http_receiver.url())], sleep=delays.append)

    assert delivery.ok and delivery.attempts == 3 and delivery.error is None
    assert delays == [0.5, 1.0]
    bodies = {r.body for r in http_receiver.requests}
    assert len(http_receiver.requests) == 3 and len(bodies) == 1  # the same event each time
    assert WHEN < delivery.started <= datetime.now(UTC)
