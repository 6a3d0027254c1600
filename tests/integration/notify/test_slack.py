"""The Slack driver against a real HTTP receiver: message body, colours, overrides, secrecy."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.notify.base import EventAction, Severity
from drkit.notify.errors import NotifierConfigError, NotifyRejected
from drkit.notify.slack import RESOLVED_COLOUR, SlackNotifier, SlackSettings
from tests.fixtures.receivers import (
    HttpReceiver,
    Reply,
)
from tests.unit.notify.samples import sample

TOKEN_PATH = "/services/T000/B000/XXXXSECRETXXXX"


def slack(receiver: HttpReceiver, **settings: object) -> SlackNotifier:
    environ = {"SLACK_URL": receiver.url(TOKEN_PATH)}
    return SlackNotifier("team", SlackSettings(url_env="SLACK_URL", **settings), environ=environ)


def test_trigger_message(http_receiver: HttpReceiver) -> None:
    slack(http_receiver).send(sample(severity=Severity.CRITICAL))

    (request,) = http_receiver.wait_for(1)
    body = request.json()
    assert request.path == TOKEN_PATH
    assert body["text"] == "[CRITICAL] RPO missed: newest snapshot of app in offsite is 30h old"
    (attachment,) = body["attachments"]
    assert attachment["color"] == "#A30200"
    assert attachment["fallback"] == body["text"]
    headline, facts, context = attachment["blocks"]
    assert headline["text"]["type"] == "mrkdwn"
    assert headline["text"]["text"].startswith(":rotating_light: *CRITICAL* RPO missed")
    assert "<https://drkit.example.com/alerts/7|details>" in headline["text"]["text"]
    assert [f["text"] for f in facts["fields"]] == [
        "*source*\npolicy app / repository offsite",
        "*objective*\n24h",
        "*age*\n30h",
    ]
    assert context["elements"][0]["text"] == "2024-05-01T02:00:07Z · dedup key `rpo:app:offsite`"
    assert "channel" not in body and "username" not in body


def test_resolve_message_is_marked_resolved_in_green(http_receiver: HttpReceiver) -> None:
    slack(http_receiver).send(sample(EventAction.RESOLVE))

    body = http_receiver.wait_for(1)[0].json()
    assert body["text"].startswith("[RESOLVED] ")
    assert body["attachments"][0]["color"] == RESOLVED_COLOUR
    assert ":white_check_mark: *RESOLVED*" in body["attachments"][0]["blocks"][0]["text"]["text"]


def test_overrides_and_url_from_a_file(http_receiver: HttpReceiver, tmp_path: Path) -> None:
    url_file = tmp_path / "slack.url"
    url_file.write_text(http_receiver.url(TOKEN_PATH) + "\n")
    settings = SlackSettings(
        url_file=url_file, channel="#dr", username="drkit", icon_emoji=":shield:"
    )
    SlackNotifier("team", settings, environ={}).send(sample(severity=Severity.WARNING))

    body = http_receiver.wait_for(1)[0].json()
    assert (body["channel"], body["username"], body["icon_emoji"]) == ("#dr", "drkit", ":shield:")
    assert body["attachments"][0]["color"] == "#DAA038"


def test_errors_and_listings_never_show_the_secret_url(http_receiver: HttpReceiver) -> None:
    http_receiver.reply_with(Reply(404, b"no_service"))
    notifier = slack(http_receiver)

    with pytest.raises(NotifyRejected) as caught:
        notifier.send(sample())
    assert "no_service" in caught.value.message
    assert "SECRET" not in caught.value.message and "SECRET" not in notifier.describe()
    assert notifier.describe() == "incoming webhook (URL from env SLACK_URL)"


def test_a_url_that_is_no_url_is_a_config_error() -> None:
    with pytest.raises(NotifierConfigError, match="not an http:// or https:// URL"):
        SlackNotifier("team", SlackSettings(url_env="U"), environ={"U": "hooks.slack.com/x"})
