"""Email over SMTP: STARTTLS (required by default), implicit TLS or plain, with AUTH.

``tls: starttls`` refuses a server that does not offer STARTTLS rather than
sending in clear; a password is never sent without TLS. The mail itself is
built by :mod:`drkit.notify.email_message`; :mod:`drkit.notify.smtp` talks
to the server (imported on first send, as smtplib is not needed to read
drkit.yaml).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import EmailMessage

from drkit.notify.base import Notification, Notifier
from drkit.notify.config import SecretSource
from drkit.notify.email_message import build_message
from drkit.notify.email_settings import DEFAULT_PORTS, EmailSettings, SmtpTls
from drkit.plugins import Plugin

log = logging.getLogger("drkit.notify")

__all__ = ["DEFAULT_PORTS", "EmailNotifier", "EmailSettings", "SmtpTls"]


class EmailNotifier(Notifier):
    """Sends one mail per notification to every recipient."""

    type = "email"

    def __init__(
        self, name: str, settings: EmailSettings, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        source = SecretSource(name, "SMTP password", settings.password_env, settings.password_file)
        self._password = source.read(environ)

    def describe(self) -> str:
        return self.settings.target()

    def message(self, notification: Notification) -> EmailMessage:
        return build_message(
            notification,
            notifier=self.name,
            sender=self.settings.sender,
            recipients=self.settings.recipients,
            subject_prefix=self.settings.subject_prefix,
        )

    def send(self, notification: Notification) -> None:
        from drkit.notify.smtp import send_mail

        refused = send_mail(
            f"email {self.name!r}", self.settings, self._password, self.message(notification)
        )
        if refused:  # some took it; the mail is out, but say who did not get it
            log.warning("email %r: recipients refused: %s", self.name, ", ".join(refused))


def build(
    settings: EmailSettings, name: str, environ: Mapping[str, str] | None = None
) -> EmailNotifier:
    """The notifier ``name`` configured by ``settings`` (reads its secrets now)."""
    return EmailNotifier(name, settings, environ=environ)


PLUGIN = Plugin("email", EmailSettings, build, "email notifier")
