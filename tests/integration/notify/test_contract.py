"""The notifier contract, run for every driver in drkit.notify.registry.NOTIFIERS.

Each driver gets a :class:`Harness` (below) that builds it from its settings
model through the registry, against a real receiver (HTTP or SMTP) where it
has one, and makes the receiver fail for a while or refuse. The contract:

- a secret (read from the environment) never shows in ``describe()``,
  ``repr()`` or the settings' ``target()``;
- a secret that cannot be read fails the build, not the first send;
- an accepted notification reaches the receiver once;
- a receiver that fails for a while raises :class:`NotifyTransientError`
  (``transient`` True) and ``deliver`` retries until it takes it;
- a receiver that refuses raises :class:`NotifyRejected` (not transient)
  and ``deliver`` tries once.

A driver registered without a harness fails ``test_every_driver_has_a_harness``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from drkit.notify.base import Notifier
from drkit.notify.dispatch import deliver
from drkit.notify.errors import (
    NotifierSecretMissing,
    NotifyError,
    NotifyRejected,
    NotifyTransientError,
)
from drkit.notify.memory import MemoryNotifier
from drkit.notify.registry import NOTIFIERS
from tests.fixtures.receivers import (
    SMTP_PASSWORD,
    HttpReceiver,
    SmtpReceiver,
)
from tests.unit.notify.samples import sample

SECRET = "s3cr3t-d0-not-show"


@dataclass
class Harness:
    """One driver under test: its settings (secret named by env SECRET_VAR) and its receiver."""

    settings: Callable[[], Any]
    delivered: Callable[[], int]
    fail_for_a_while: Callable[[Notifier], None]
    refuse: Callable[[Notifier], None]
    secret: str = SECRET
    has_secret: bool = True

    def build(self, environ: dict[str, str] | None = None) -> Notifier:
        env = {"SECRET_VAR": self.secret} if environ is None else environ
        return NOTIFIERS.build(self.settings(), "contract", env)


def _http(receiver: HttpReceiver, settings: Callable[[], Any]) -> Harness:
    failures: list[tuple[int, int]] = []  # (requests before, answered with a failure)

    def fail(times: int, status: int) -> None:
        failures.append((len(receiver.requests), times))
        receiver.fail(times=times, status=status, body=b"bad request")

    def delivered() -> int:  # the receiver records refused requests too
        seen = len(receiver.requests)
        return seen - sum(min(times, seen - before) for before, times in failures)

    return Harness(
        settings=settings,
        delivered=delivered,
        fail_for_a_while=lambda _: fail(2, 503),
        refuse=lambda _: fail(5, 400),
    )


def _webhook(http: HttpReceiver, smtp: SmtpReceiver) -> Harness:
    from drkit.notify.webhook import WebhookSettings

    return _http(http, lambda: WebhookSettings(url=http.url(), secret_env="SECRET_VAR"))


def _slack(http: HttpReceiver, smtp: SmtpReceiver) -> Harness:
    from drkit.notify.slack import SlackSettings

    harness = _http(http, lambda: SlackSettings(url_env="SECRET_VAR"))
    harness.secret = http.url("/services/" + SECRET)  # the webhook URL is Slack's secret
    return harness


def _pagerduty(http: HttpReceiver, smtp: SmtpReceiver) -> Harness:
    from drkit.notify.pagerduty import PagerDutySettings

    harness = _http(
        http, lambda: PagerDutySettings(url=http.url("/v2/enqueue"), routing_key_env="SECRET_VAR")
    )
    harness.secret = "R" + "0123456789abcdef0123456789abcde"  # a routing key is 32 characters
    return harness


def _email(http: HttpReceiver, smtp: SmtpReceiver) -> Harness:
    from drkit.notify.email import EmailSettings

    def settings() -> EmailSettings:
        return EmailSettings(
            host=smtp.host,
            port=smtp.port,
            tls=smtp.tls,
            sender="drkit@example.com",
            recipients=["oncall@example.com"],
            ca_file=smtp.ca_file,
            username=smtp.user,
            password_env="SECRET_VAR",
            timeout_s=10,
        )

    return Harness(
        settings=settings,
        delivered=lambda: len(smtp.mails),
        fail_for_a_while=lambda _: smtp.fail_data(2, "451 4.3.0 try again later"),
        refuse=lambda _: smtp.fail_data(5, "550 5.1.1 no such mailbox"),
        secret=SMTP_PASSWORD,
    )


def _memory(http: HttpReceiver, smtp: SmtpReceiver) -> Harness:
    from drkit.notify.memory import MemorySettings

    built: list[MemoryNotifier] = []

    def settings() -> MemorySettings:
        return MemorySettings()

    def remember(notifier: Notifier) -> MemoryNotifier:
        assert isinstance(notifier, MemoryNotifier)
        if notifier not in built:
            built.append(notifier)
        return notifier

    harness = Harness(
        settings=settings,
        delivered=lambda: sum(len(n.sent) for n in built),
        fail_for_a_while=lambda n: remember(n).fail_next(
            [NotifyTransientError("busy"), NotifyTransientError("busy")]
        ),
        refuse=lambda n: remember(n).fail_next([NotifyRejected("no")] * 5),
        has_secret=False,
    )
    plain_build = harness.build
    harness.build = lambda environ=None: remember(plain_build(environ))  # type: ignore[method-assign]
    return harness


HARNESSES: dict[str, Callable[[HttpReceiver, SmtpReceiver], Harness]] = {
    "webhook": _webhook,
    "slack": _slack,
    "pagerduty": _pagerduty,
    "email": _email,
    "memory": _memory,
}


def test_every_driver_has_a_harness() -> None:
    assert sorted(HARNESSES) == NOTIFIERS.names


@pytest.fixture(params=NOTIFIERS.names)
def harness(
    request: pytest.FixtureRequest, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver
) -> Iterator[Harness]:
    if request.param not in HARNESSES:
        pytest.fail(f"notifier {request.param!r} has no contract harness in {__name__}")
    yield HARNESSES[request.param](http_receiver, smtp_receiver)


def test_a_secret_never_shows(harness: Harness) -> None:
    notifier = harness.build()
    shown = [notifier.describe(), repr(notifier), harness.settings().target()]
    assert all(harness.secret not in text for text in shown), shown
    assert all(SECRET not in text for text in shown), shown


def test_an_unreadable_secret_fails_the_build(harness: Harness) -> None:
    if not harness.has_secret:
        harness.build(environ={})  # nothing to read: builds
        return
    with pytest.raises(NotifierSecretMissing) as caught:
        harness.build(environ={})
    assert caught.value.exit_code == 31 and "SECRET_VAR" in caught.value.message


def test_an_accepted_notification_arrives_once(harness: Harness) -> None:
    harness.build().send(sample())
    assert harness.delivered() == 1


def test_a_receiver_failing_for_a_while_is_transient_and_retried(harness: Harness) -> None:
    notifier = harness.build()
    harness.fail_for_a_while(notifier)
    with pytest.raises(NotifyTransientError) as caught:
        notifier.send(sample())
    assert caught.value.transient
    (done,) = deliver(sample(), [notifier], retries=3, backoff_s=0.01, timeout_s=30)
    assert done.ok and done.attempts == 2, done
    assert harness.delivered() == 1


def test_a_refusal_is_rejected_and_not_retried(harness: Harness) -> None:
    notifier = harness.build()
    harness.refuse(notifier)
    with pytest.raises(NotifyError) as caught:
        notifier.send(sample())
    assert isinstance(caught.value, NotifyRejected) and not caught.value.transient
    (done,) = deliver(sample(), [notifier], retries=3, backoff_s=0.01, timeout_s=30)
    assert not done.ok and done.attempts == 1, done
    assert harness.delivered() == 0
