"""The mail a notification becomes: subject, plain text, a simple HTML alternative, headers.

Every event of one alert refers to the same thread root (``References``), so
mail clients show the trigger, its repeats and the resolve as one thread.
``Auto-Submitted: auto-generated`` (RFC 3834) keeps vacation responders quiet.
"""

from __future__ import annotations

import email.policy
import hashlib
import html
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from drkit.notify.base import Notification

FOOTER = "Sent by drkit notifier {name!r}."

# Fold only past RFC 5322's hard limit: the default 78 folds "Subject: [drkit] ..." right
# after the colon (a Python quirk with "[...]"), and some readers then show a leading space.
POLICY = email.policy.default.clone(max_line_length=998)


def email_subject(notification: Notification, prefix: str) -> str:
    """``[drkit] CRITICAL: summary`` or ``[drkit] RESOLVED: summary``."""
    return f"{prefix} {notification.status}: {notification.summary}".strip()


def facts(notification: Notification) -> list[tuple[str, str]]:
    """The facts shown in the body, in order: source, details, time, link, dedup key."""
    rows = [("source", notification.source), *notification.details]
    rows.append(("time", notification.time_text))
    if notification.url:
        rows.append(("link", notification.url))
    rows.append(("dedup key", notification.dedup_key))
    return rows


def email_text(notification: Notification, notifier: str) -> str:
    """The plain-text body."""
    width = max(len(key) for key, _ in facts(notification))
    lines = [f"{notification.status}: {notification.summary}", ""]
    lines += [f"{key + ':':<{width + 1}} {value}" for key, value in facts(notification)]
    lines += ["", "-- ", FOOTER.format(name=notifier)]
    return "\n".join(lines) + "\n"


def email_html(notification: Notification, notifier: str) -> str:
    """The HTML alternative: the headline and a two-column table of the facts."""
    colour = "#2EB886" if notification.resolved else "#A30200"
    rows = "\n".join(
        f'<tr><th align="left" style="padding-right:1em">{html.escape(key)}</th>'
        f"<td>{_html_value(key, value)}</td></tr>"
        for key, value in facts(notification)
    )
    headline = f"{html.escape(notification.status)}: {html.escape(notification.summary)}"
    footer = html.escape(FOOTER.format(name=notifier))
    return (
        "<!DOCTYPE html>\n<html><body>\n"
        f'<h2 style="color:{colour}">{headline}</h2>\n'
        f"<table>\n{rows}\n</table>\n<p><small>{footer}</small></p>\n</body></html>\n"
    )


def _html_value(key: str, value: str) -> str:
    if key == "link" and value.startswith(("https://", "http://")):
        return f'<a href="{html.escape(value)}">{html.escape(value)}</a>'
    return html.escape(value)


def thread_id(notification: Notification, domain: str) -> str:
    """The Message-ID-shaped root shared by every event of one alert."""
    digest = hashlib.sha256(notification.dedup_key.encode()).hexdigest()[:32]
    return f"<{digest}.alert@{domain}>"


def build_message(
    notification: Notification,
    *,
    notifier: str,
    sender: str,
    recipients: Sequence[str],
    subject_prefix: str,
) -> EmailMessage:
    """The whole message, ready for ``SMTP.send_message``."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "drkit.invalid"
    message = EmailMessage(policy=POLICY)
    message["Subject"] = email_subject(notification, subject_prefix)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(notification.time)
    message["Message-ID"] = f"<{notification.event_id}@{domain}>"
    message["References"] = thread_id(notification, domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Drkit-Event"] = notification.action.value
    message["X-Drkit-Dedup-Key"] = notification.dedup_key
    message.set_content(email_text(notification, notifier))
    message.add_alternative(email_html(notification, notifier), subtype="html")
    return message
