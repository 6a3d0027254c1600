"""The email driver against a real SMTP server (aiosmtpd): STARTTLS, AUTH, content, failures."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.notify.base import EventAction, Severity
from drkit.notify.dispatch import deliver
from drkit.notify.email import EmailNotifier, EmailSettings
from drkit.notify.errors import NotifyAuthError, NotifyRejected, NotifyTransientError
from tests.fixtures.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpReceiver,
)
from tests.unit.notify.samples import sample

MakeSmtp = Callable[..., SmtpReceiver]


def mailer(receiver: SmtpReceiver, **overrides: object) -> EmailNotifier:
    settings: dict[str, object] = {
        "host": receiver.host,
        "port": receiver.port,
        "tls": receiver.tls,
        "sender": "drkit <drkit@example.com>",
        "recipients": ["oncall@example.com", "Ops Team <ops@example.com>"],
        "ca_file": receiver.ca_file,
        "timeout_s": 10,
    }
    if receiver.user:
        settings.update(username=receiver.user, password_env="SMTP_PASS")
    settings.update(overrides)
    environ = {"SMTP_PASS": SMTP_PASSWORD}
    return EmailNotifier("oncall", EmailSettings.model_validate(settings), environ=environ)


def test_mail_over_starttls_with_auth(smtp_receiver: SmtpReceiver) -> None:
    mailer(smtp_receiver).send(sample(severity=Severity.CRITICAL))

    (mail,) = smtp_receiver.wait_for(1)
    assert mail.tls and mail.login == SMTP_USER
    assert mail.mail_from == "drkit@example.com"
    assert mail.rcpt_tos == ("oncall@example.com", "ops@example.com")
    message = mail.message
    assert message["Subject"] == (
        "[drkit] CRITICAL: RPO missed: newest snapshot of app in offsite is 30h old"
    )
    assert message["From"] == "drkit <drkit@example.com>"
    assert message["To"] == "oncall@example.com, Ops Team <ops@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Drkit-Dedup-Key"] == "rpo:app:offsite"
    text = mail.part("text/plain")
    assert text.startswith("CRITICAL: RPO missed: newest snapshot of app in offsite is 30h old\n")
    for line in (
        "source:    policy app / repository offsite",
        "objective: 24h",
        "age:       30h",
        "time:      2024-05-01T02:00:07Z",
        "link:      https://drkit.example.com/alerts/7",
        "dedup key: rpo:app:offsite",
    ):
        assert line in text.splitlines()
    html = mail.part("text/html")
    assert "<h2" in html and "CRITICAL: RPO missed" in html
    assert '<a href="https://drkit.example.com/alerts/7">' in html


def test_trigger_and_resolve_are_one_thread(smtp_receiver: SmtpReceiver) -> None:
    notifier = mailer(smtp_receiver, subject_prefix="[dr]")
    notifier.send(sample())
    notifier.send(sample(EventAction.RESOLVE))

    trigger, resolve = (m.message for m in smtp_receiver.wait_for(2))
    assert resolve["Subject"].startswith("[dr] RESOLVED: RPO missed")
    assert trigger["Subject"].startswith("[dr] ERROR: RPO missed")
    assert trigger["References"] == resolve["References"]
    assert trigger["Message-ID"] != resolve["Message-ID"]
    assert trigger["Message-ID"].endswith("@example.com>")


def test_password_from_a_file(smtp_receiver: SmtpReceiver, tmp_path: Path) -> None:
    password_file = tmp_path / "smtp.pass"
    password_file.write_text(SMTP_PASSWORD + "\n")
    mailer(smtp_receiver, password_env=None, password_file=password_file).send(sample())

    assert smtp_receiver.wait_for(1)[0].login == SMTP_USER


def test_wrong_password_is_an_auth_error_and_not_retried(smtp_receiver: SmtpReceiver) -> None:
    notifier = EmailNotifier(
        "oncall", mailer(smtp_receiver).settings, environ={"SMTP_PASS": "wrong"}
    )

    (delivery,) = deliver(sample(), [notifier], sleep=lambda s: None)

    assert not delivery.ok and delivery.attempts == 1
    assert "refused the login of 'drkit'" in (delivery.error or "")
    with pytest.raises(NotifyAuthError) as caught:
        notifier.send(sample())
    assert "password_env" in caught.value.hint
    assert smtp_receiver.mails == []


def test_starttls_required_but_not_offered_sends_nothing(make_smtp_receiver: MakeSmtp) -> None:
    plain = make_smtp_receiver("none")

    with pytest.raises(NotifyRejected, match="does not offer STARTTLS") as caught:
        mailer(plain, tls="starttls").send(sample())
    assert "tls: ssl" in caught.value.hint
    assert plain.mails == []


def test_untrusted_certificate_is_refused(smtp_receiver: SmtpReceiver) -> None:
    with pytest.raises(NotifyRejected, match="not trusted") as caught:
        mailer(smtp_receiver, ca_file=None).send(sample())
    assert "ca_file" in caught.value.hint
    assert smtp_receiver.mails == []


def test_implicit_tls(make_smtp_receiver: MakeSmtp) -> None:
    receiver = make_smtp_receiver("ssl")
    mailer(receiver).send(sample())

    (mail,) = receiver.wait_for(1)
    assert mail.tls and mail.login == SMTP_USER


def test_plain_relay_without_auth(make_smtp_receiver: MakeSmtp) -> None:
    relay = make_smtp_receiver("none")
    mailer(relay).send(sample(severity=Severity.INFO))

    (mail,) = relay.wait_for(1)
    assert not mail.tls and mail.login is None
    assert mail.message["Subject"].startswith("[drkit] INFO: ")


def test_a_temporary_refusal_is_retried(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_data(times=1, reply="451 4.3.0 mailbox busy")
    delays: list[float] = []

    (delivery,) = deliver(sample(), [mailer(smtp_receiver)], sleep=delays.append)

    assert delivery.ok and delivery.attempts == 2 and delays == [0.5]
    assert len(smtp_receiver.wait_for(1)) == 1


def test_a_permanent_refusal_is_not_retried(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_data(times=1, reply="554 5.7.1 message rejected as spam")

    with pytest.raises(NotifyRejected) as caught:
        mailer(smtp_receiver).send(sample())
    assert "answered 554 5.7.1 message rejected as spam" in caught.value.message


def test_nobody_listening_is_transient() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = EmailSettings(
        host="127.0.0.1", port=port, sender="drkit@example.com", recipients=["a@example.com"]
    )

    with pytest.raises(NotifyTransientError, match=f"127.0.0.1:{port}"):
        EmailNotifier("oncall", settings).send(sample())
