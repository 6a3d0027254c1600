"""deliver() with real backends: failing and hanging receivers never hold up the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from drkit.notify.dispatch import deliver
from drkit.notify.email import EmailNotifier, EmailSettings
from drkit.notify.slack import SlackNotifier, SlackSettings
from drkit.notify.webhook import WebhookNotifier, WebhookSettings
from tests.fixtures.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    HttpReceiver,
    SmtpReceiver,
)
from tests.unit.notify.samples import sample

MakeHttp = Callable[..., HttpReceiver]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def notify_log() -> Iterator[_Records]:
    """What the drkit.notify logger said (a handler on it: drkit's CLI stops propagation)."""
    logger, handler = logging.getLogger("drkit.notify"), _Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def webhook(name: str, receiver: HttpReceiver, timeout_s: float = 10) -> WebhookNotifier:
    return WebhookNotifier(name, WebhookSettings(url=receiver.url(), timeout_s=timeout_s))


def slack(receiver: HttpReceiver) -> SlackNotifier:
    return SlackNotifier("chat", SlackSettings(url_env="U"), environ={"U": receiver.url()})


def mail(receiver: SmtpReceiver) -> EmailNotifier:
    settings = EmailSettings(
        host=receiver.host,
        port=receiver.port,
        username=SMTP_USER,
        password_env="P",
        sender="drkit@example.com",
        recipients=["oncall@example.com"],
        ca_file=receiver.ca_file,
    )
    return EmailNotifier("mail", settings, environ={"P": SMTP_PASSWORD})


def test_a_failing_backend_is_retried_and_reported_while_the_others_deliver(
    make_http_receiver: MakeHttp, smtp_receiver: SmtpReceiver, notify_log: _Records
) -> None:
    broken, flaky, chat = make_http_receiver(), make_http_receiver(), make_http_receiver()
    broken.fail(times=100, status=503)
    flaky.fail(times=1, status=500)
    delays: list[float] = []
    notifiers = [webhook("broken", broken), webhook("flaky", flaky), slack(chat)]
    notifiers.append(mail(smtp_receiver))

    deliveries = deliver(sample(), notifiers, retries=3, backoff_s=0.5, sleep=delays.append)

    assert [d.notifier for d in deliveries] == ["broken", "flaky", "chat", "mail"]
    failed, retried, *others = deliveries
    assert not failed.ok and failed.attempts == 4 and "HTTP 503" in (failed.error or "")
    assert retried.ok and retried.attempts == 2
    assert all(d.ok and d.attempts == 1 and d.error is None for d in others)
    assert len(broken.requests) == 4 and len(flaky.requests) == 2
    assert len(chat.requests) == 1 and len(smtp_receiver.wait_for(1)) == 1
    assert sorted(delays) == [0.5, 0.5, 1.0, 2.0]  # broken: 0.5, 1, 2; flaky: 0.5
    retries = [r for r in notify_log.records if "retrying in" in r.getMessage()]
    assert len(retries) == 4 and all(r.levelno == logging.WARNING for r in retries)
    (gave_up,) = [r for r in notify_log.records if r.levelno == logging.ERROR]
    assert "'broken' after 4 attempt(s)" in gave_up.getMessage()


def test_a_hanging_backend_times_out_without_delaying_the_others(
    make_http_receiver: MakeHttp, smtp_receiver: SmtpReceiver
) -> None:
    hanging, chat = make_http_receiver(), make_http_receiver()
    hanging.hang()  # holds every request until the receiver stops
    # the hung notifier comes first and would wait 60 s on its own: only deliver's deadline
    # can end it, and if the deliveries ran one after another the others would miss it too
    notifiers = [webhook("hung", hanging, timeout_s=60), slack(chat), mail(smtp_receiver)]

    hung, chatted, mailed = deliver(sample(), notifiers, timeout_s=3)

    assert not hung.ok and hung.attempts == 1
    assert "no result within 3 s" in (hung.error or "")
    hanging.wait_for(1)
    assert hanging.waiting == 1  # deliver returned while the request was still held
    assert chatted.ok and mailed.ok
    assert len(chat.requests) == 1 and len(smtp_receiver.mails) == 1


def test_a_backend_timeout_is_transient_and_retried(make_http_receiver: MakeHttp) -> None:
    slow = make_http_receiver()
    slow.hang(times=1)  # the first request is never answered, the second is

    (delivery,) = deliver(sample(), [webhook("slow", slow, timeout_s=0.5)], sleep=lambda s: None)

    assert delivery.ok and delivery.attempts == 2
    assert len(slow.requests) == 2
