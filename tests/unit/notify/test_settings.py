"""Notifiers in drkit.yaml: defaults, and every validation error with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from drkit.errors import ConfigError
from drkit.notify.email import EmailSettings, SmtpTls
from drkit.notify.pagerduty import EVENTS_URL, PagerDutySettings
from drkit.notify.webhook import WebhookSettings
from drkit.settings import load_settings


def load(tmp_path: Path, notifiers: str) -> Path:
    path = tmp_path / "drkit.yaml"
    path.write_text("version: 1\nnotifiers:\n" + textwrap.indent(textwrap.dedent(notifiers), "  "))
    return path


def errors(tmp_path: Path, notifiers: str) -> list[str]:
    path = load(tmp_path, notifiers)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return [line.removeprefix(str(path)) for line in caught.value.message.splitlines()]


def test_a_full_file_loads_with_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        load(
            tmp_path,
            """\
            ops:
              type: webhook
              url: https://hooks.example.com/drkit
              secret_file: ~/hook.secret
            chat: {type: slack, url_env: SLACK_URL}
            mail:
              type: email
              host: smtp.example.com
              sender: drkit@example.com
              recipients: [oncall@example.com]
            pager: {type: pagerduty, routing_key_env: PD_KEY}
            """,
        )
    )

    ops, mail, pager = (settings.notifiers[n] for n in ("ops", "mail", "pager"))
    assert isinstance(ops, WebhookSettings) and ops.timeout_s == 10.0
    assert ops.secret_file == Path("~/hook.secret").expanduser()
    assert isinstance(mail, EmailSettings)
    assert (mail.tls, mail.effective_port) == (SmtpTls.STARTTLS, 587)
    assert mail.subject_prefix == "[drkit]" and mail.username is None
    assert isinstance(pager, PagerDutySettings) and pager.url == EVENTS_URL
    assert settings.notifiers["chat"].type == "slack"


@pytest.mark.parametrize(
    ("tls", "port"), [(SmtpTls.STARTTLS, 587), (SmtpTls.SSL, 465), (SmtpTls.NONE, 25)]
)
def test_smtp_port_follows_tls(tls: SmtpTls, port: int) -> None:
    settings = EmailSettings(host="h", tls=tls, sender="a@b.c", recipients=["d@e.f"])

    assert settings.effective_port == port
    explicit = EmailSettings(host="h", port=2525, sender="a@b.c", recipients=["d@e.f"])
    assert explicit.effective_port == 2525


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("x: {type: slak}", ":3: notifiers.x.type: unknown notifier type; known types: "
         "email, memory, pagerduty, slack, webhook (got 'slak')"),
        ("x: {url: 'https://e.com'}", ":3: notifiers.x: missing key 'type'; known types: "),
        ("x: {type: webhook, url: 'ftp://e.com'}",
         ":3: notifiers.x.url: must be an http:// or https:// URL (got 'ftp://e.com')"),
        ("x: {type: webhook, url: 'https://e.com', secret_env: A, secret_file: /b}",
         ":3: notifiers.x: secret_env and secret_file are mutually exclusive; set only one"),
        ("x: {type: webhook, url: 'https://e.com', secret_env: 'A-B'}",
         ":3: notifiers.x.secret_env: not an environment variable name"),
        ("x: {type: webhook, url: 'https://e.com', headers: {X-Drkit-Signature: s}}",
         ":3: notifiers.x: drkit sets the header x-drkit-signature itself"),
        ("x: {type: webhook, url: 'https://e.com', headers: {'bad header': v}}",
         ":3: notifiers.x.headers['bad header']: not an HTTP header name"),
        ("x: {type: webhook, url: 'https://e.com', timeout_s: 0}",
         ":3: notifiers.x.timeout_s: input should be greater than 0 (got 0)"),
        ("x: {type: webhook, url: 'https://e.com', sekret_env: A}",
         ":3: notifiers.x.sekret_env: unknown key for type webhook; did you mean 'secret_env'?"),
        ("x: {type: slack}",
         ":3: notifiers.x: set url_env (an environment variable) or url_file (a file)"),
        ("x: {type: slack, url_env: U, icon_emoji: shield}",
         ":3: notifiers.x: icon_emoji looks like :name:"),
        ("x: {type: pagerduty}", ":3: notifiers.x: set routing_key_env"),
        ("x: {type: email, host: h, sender: nobody, recipients: [a@b.c]}",
         ":3: notifiers.x.sender: not an email address"),
        ("x: {type: email, host: h, sender: a@b.c, recipients: []}",
         ":3: notifiers.x.recipients: list should have at least 1 item"),
        ("x: {type: email, host: h, sender: a@b.c, recipients: [a@b.c], tls: on}",
         ":3: notifiers.x.tls: input should be 'starttls', 'ssl' or 'none'"),
        ("x: {type: email, host: h, sender: a@b.c, recipients: [a@b.c], username: u}",
         ":3: notifiers.x: set password_env (an environment variable) or password_file"),
        ("x: {type: email, host: h, sender: a@b.c, recipients: [a@b.c], password_env: P}",
         ":3: notifiers.x: a password needs a username"),
        ("x: {type: email, host: h, sender: a@b.c, recipients: [a@b.c], tls: none, "
         "username: u, password_env: P}",
         ":3: notifiers.x: a password is never sent without TLS"),
        ("Bad: {type: memory}", ":3: notifiers.Bad: invalid repository name"),
    ],
)  # fmt: skip
def test_validation_errors(tmp_path: Path, yaml: str, expected: str) -> None:
    (line,) = errors(tmp_path, yaml + "\n")

    assert line.startswith(expected), line


def test_errors_point_at_the_line_of_the_bad_key(tmp_path: Path) -> None:
    lines = errors(
        tmp_path,
        """\
        ops:
          type: webhook
          url: https://e.com
          timeout_s: 900
        mail:
          type: email
          host: h
          sender: a@b.c
          recipients: [a@b.c]
          usernme: x
        """,
    )

    assert lines[0].startswith(":6: notifiers.ops.timeout_s: input should be less than or equal")
    assert lines[1].startswith(":12: notifiers.mail.usernme: unknown key for type email; did you")
