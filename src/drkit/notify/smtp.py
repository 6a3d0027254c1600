"""One SMTP conversation: connect (TLS as configured), log in, send, with errors translated."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

from drkit.notify.email_settings import EmailSettings, SmtpTls
from drkit.notify.errors import (
    NotifyAuthError,
    NotifyError,
    NotifyRejected,
    NotifyTransientError,
)


def send_mail(
    what: str, settings: EmailSettings, password: str | None, message: EmailMessage
) -> list[str]:
    """Send ``message``; return the recipients the server refused (when it took some)."""
    try:
        with _connect(settings) as smtp:
            if settings.username is not None and password is not None:
                smtp.login(settings.username, password)
            refused = smtp.send_message(
                message,
                from_addr=parseaddr(settings.sender)[1],
                to_addrs=[parseaddr(r)[1] for r in settings.recipients],
            )
    except NotifyError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise translate_smtp_error(what, settings, exc) from exc
    return sorted(refused)


def _connect(s: EmailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
    # gethostname, not smtplib's default getfqdn: a reverse DNS lookup may hang
    helo = socket.gethostname()
    if s.tls is SmtpTls.SSL:
        port = s.effective_port
        return smtplib.SMTP_SSL(s.host, port, helo, timeout=s.timeout_s, context=context)
    smtp = smtplib.SMTP(s.host, s.effective_port, helo, timeout=s.timeout_s)
    if s.tls is SmtpTls.STARTTLS:
        try:
            _start_tls(smtp, s, context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _start_tls(smtp: smtplib.SMTP, s: EmailSettings, context: ssl.SSLContext) -> None:
    smtp.ehlo()
    if not smtp.has_extn("starttls"):
        raise NotifyRejected(
            f"the SMTP server {s.host}:{s.effective_port} does not offer STARTTLS",
            hint="use tls: ssl (port 465) if it speaks TLS from the start; tls: none only "
            "for a relay on a trusted network, and never with a password",
        )
    smtp.starttls(context=context)
    smtp.ehlo()


def translate_smtp_error(what: str, s: EmailSettings, exc: BaseException) -> NotifyError:
    """The NotifyError for an smtplib, TLS or socket failure."""
    where = f"{s.host}:{s.effective_port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError) and exc.smtp_code != 454:
        return NotifyAuthError(
            f"{what}: {where} refused the login of {s.username!r}: {_said(exc)}",
            hint="check username and the password named by password_env / password_file",
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(what, where, exc)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return NotifyRejected(f"{what}: {where}: {exc}", hint="the server lacks a needed feature")
    if isinstance(exc, smtplib.SMTPResponseException):
        error = NotifyTransientError if 400 <= exc.smtp_code < 500 else NotifyRejected
        return error(f"{what}: {where} answered {_said(exc)}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NotifyRejected(
            f"{what}: the TLS certificate of {where} is not trusted: {exc.verify_message}",
            hint="fix the server's certificate, or name its CA with ca_file: in drkit.yaml",
        )
    if isinstance(exc, ssl.SSLError):
        return NotifyRejected(
            f"{what}: TLS with {where} failed: {exc}",
            hint="check tls: (ssl for port 465, starttls for 587) against the server's port",
        )
    if isinstance(exc, TimeoutError):
        return NotifyTransientError(f"{what}: no answer from {where} within {s.timeout_s:g} s")
    return NotifyTransientError(f"{what}: cannot talk to {where}: {exc or type(exc).__name__}")


def _recipients_refused(what: str, where: str, exc: smtplib.SMTPRecipientsRefused) -> NotifyError:
    codes = [code for code, _ in exc.recipients.values()]
    said = "; ".join(f"{r}: {code} {_text(m)}" for r, (code, m) in exc.recipients.items())
    error = NotifyTransientError if all(400 <= c < 500 for c in codes) else NotifyRejected
    return error(f"{what}: {where} refused every recipient: {said}")


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def _said(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"
