"""Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, Zulip's Slack API).

The message has a plain ``text`` (what phone notifications show) and one
attachment coloured by severity, green once resolved, holding Block Kit
blocks: the headline, the facts as fields, and the time and dedup key. An
incoming-webhook URL is a secret (anyone holding it may post), so drkit.yaml
names the environment variable or file holding it, never the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from drkit.notify.base import Notification, Notifier, Severity
from drkit.notify.config import (
    DEFAULT_TIMEOUT_S,
    EnvName,
    NonBlank,
    NotifierModel,
    SecretFile,
    SecretSource,
    Timeout,
    check_secret_pair,
)
from drkit.notify.errors import NotifierConfigError
from drkit.notify.webhook import encode
from drkit.plugins import Plugin

COLOURS = {
    Severity.INFO: "#439FE0",
    Severity.WARNING: "#DAA038",
    Severity.ERROR: "#E01E5A",
    Severity.CRITICAL: "#A30200",
}
RESOLVED_COLOUR = "#2EB886"
EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.ERROR: ":red_circle:",
    Severity.CRITICAL: ":rotating_light:",
}
RESOLVED_EMOJI = ":white_check_mark:"
MAX_FIELDS = 10  # Block Kit: at most 10 fields in a section
MAX_FIELD_TEXT = 2000  # ... of at most 2000 characters each
MAX_SECTION_TEXT = 3000


class SlackSettings(NotifierModel):
    """``type: slack``: post to a Slack-compatible incoming webhook."""

    type: Literal["slack"] = "slack"
    url_env: EnvName | None = Field(
        default=None, description="Environment variable holding the incoming-webhook URL."
    )
    url_file: SecretFile | None = Field(
        default=None, description="File holding the incoming-webhook URL (first line)."
    )
    channel: NonBlank | None = Field(
        default=None, description="Channel override (honoured by Mattermost and legacy hooks)."
    )
    username: NonBlank | None = Field(default=None, description="Sender name override.")
    icon_emoji: NonBlank | None = Field(default=None, description="Sender icon, e.g. :shield:.")
    timeout_s: Timeout = Field(default=DEFAULT_TIMEOUT_S, description="Seconds per attempt.")
    ca_file: SecretFile | None = Field(
        default=None, description="CA certificate(s) to trust for the webhook's https:// URL."
    )

    @model_validator(mode="after")
    def _check(self) -> SlackSettings:
        check_secret_pair(self.url_env, self.url_file, prefix="url", required=True)
        if self.icon_emoji is not None and not (
            self.icon_emoji.startswith(":") and self.icon_emoji.endswith(":")
        ):
            raise PydanticCustomError("icon_emoji", "icon_emoji looks like :name:")
        return self

    def target(self) -> str:
        """Where it delivers, for listings (names the URL's source, never the URL)."""
        source = SecretSource("", "", self.url_env, self.url_file)
        return f"incoming webhook (URL from {source.describe()})"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only ``&``, ``<`` and ``>`` are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields(notification: Notification) -> list[dict[str, str]]:
    facts = [("source", notification.source), *notification.details]
    if len(facts) > MAX_FIELDS:
        hidden = len(facts) - (MAX_FIELDS - 1)
        facts = [*facts[: MAX_FIELDS - 1], ("more", f"{hidden} more details not shown")]
    return [
        {"type": "mrkdwn", "text": _cut(f"*{escape(key)}*\n{escape(value)}", MAX_FIELD_TEXT)}
        for key, value in facts
    ]


def _headline(notification: Notification) -> str:
    emoji = RESOLVED_EMOJI if notification.resolved else EMOJI[notification.severity]
    text = f"{emoji} *{notification.status}* {escape(notification.summary)}"
    if notification.url:
        text += f"\n<{notification.url}|details>"
    return _cut(text, MAX_SECTION_TEXT)


def slack_payload(notification: Notification) -> dict[str, object]:
    """The incoming-webhook body: fallback text plus one coloured attachment of blocks."""
    text = f"[{notification.status}] {escape(notification.summary)}"
    colour = RESOLVED_COLOUR if notification.resolved else COLOURS[notification.severity]
    context = f"{notification.time_text} · dedup key `{escape(notification.dedup_key)}`"
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _headline(notification)}},
        {"type": "section", "fields": _fields(notification)},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    return {
        "text": text,
        "attachments": [{"color": colour, "fallback": text, "blocks": blocks}],
    }


class SlackNotifier(Notifier):
    """Posts :func:`slack_payload` (with the optional overrides) to the webhook URL."""

    type = "slack"

    def __init__(
        self, name: str, settings: SlackSettings, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self._url_source = SecretSource(name, "webhook URL", settings.url_env, settings.url_file)
        self._url = self._url_source.require(environ)
        if not self._url.startswith(("https://", "http://")):
            raise NotifierConfigError(
                f"notifier {name!r}: its webhook URL ({self._url_source.describe()}) "
                "is not an http:// or https:// URL",
                hint="store the full incoming-webhook URL, e.g. https://hooks.slack.com/services/…",
            )

    def describe(self) -> str:
        return self.settings.target()

    def payload(self, notification: Notification) -> dict[str, object]:
        """:func:`slack_payload` plus the channel, username and icon overrides."""
        overrides = {
            "channel": self.settings.channel,
            "username": self.settings.username,
            "icon_emoji": self.settings.icon_emoji,
        }
        extra = {key: value for key, value in overrides.items() if value is not None}
        return {**slack_payload(notification), **extra}

    def send(self, notification: Notification) -> None:
        from drkit.notify.http_client import HttpTarget, post

        target = HttpTarget(self._url, self.settings.timeout_s, self.settings.ca_file)
        post(f"slack {self.name!r}", target, encode(self.payload(notification)), {})


def build(
    settings: SlackSettings, name: str, environ: Mapping[str, str] | None = None
) -> SlackNotifier:
    """The notifier ``name`` configured by ``settings`` (reads its secrets now)."""
    return SlackNotifier(name, settings, environ=environ)


PLUGIN = Plugin("slack", SlackSettings, build, "slack notifier")
