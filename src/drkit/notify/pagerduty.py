"""PagerDuty Events API v2: trigger an incident, resolve it with the same dedup key.

A trigger carries the summary, source, severity (drkit's four levels are
PagerDuty's four), timestamp and the details as ``custom_details``; a resolve
carries only the routing key, the action and the dedup key, as the API asks.
The routing (integration) key is a secret: drkit.yaml names where it is.
``url`` is configurable for a PagerDuty-compatible receiver or a test server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from drkit.notify.base import Notification, Notifier
from drkit.notify.config import (
    DEFAULT_TIMEOUT_S,
    EnvName,
    HttpUrl,
    NonBlank,
    NotifierModel,
    SecretFile,
    SecretSource,
    Timeout,
    check_secret_pair,
)
from drkit.notify.webhook import encode
from drkit.plugins import Plugin

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
MAX_SUMMARY = 1024  # the API refuses longer summaries
MAX_DEDUP_KEY = 255


class PagerDutySettings(NotifierModel):
    """``type: pagerduty``: send Events API v2 events to one service integration."""

    type: Literal["pagerduty"] = "pagerduty"
    routing_key_env: EnvName | None = Field(
        default=None, description="Environment variable holding the integration (routing) key."
    )
    routing_key_file: SecretFile | None = Field(
        default=None, description="File holding the integration (routing) key (first line)."
    )
    url: HttpUrl = Field(default=EVENTS_URL, description="The Events API v2 endpoint.")
    component: NonBlank | None = Field(default=None, description="payload.component, if set.")
    group: NonBlank | None = Field(default=None, description="payload.group, if set.")
    timeout_s: Timeout = Field(default=DEFAULT_TIMEOUT_S, description="Seconds per attempt.")
    ca_file: SecretFile | None = Field(
        default=None, description="CA certificate(s) to trust for an https:// url."
    )

    @model_validator(mode="after")
    def _check(self) -> PagerDutySettings:
        check_secret_pair(
            self.routing_key_env, self.routing_key_file, prefix="routing_key", required=True
        )
        return self

    def target(self) -> str:
        """Where it delivers, for listings (names the key's source, never the key)."""
        source = SecretSource("", "", self.routing_key_env, self.routing_key_file)
        return f"Events API v2 at {self.url} (routing key from {source.describe()})"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pagerduty_event(
    notification: Notification, routing_key: str, settings: PagerDutySettings
) -> dict[str, object]:
    """The Events API v2 body for ``notification``."""
    event: dict[str, object] = {
        "routing_key": routing_key,
        "event_action": notification.action.value,
        "dedup_key": _cut(notification.dedup_key, MAX_DEDUP_KEY),
    }
    if notification.resolved:
        return event
    payload: dict[str, object] = {
        "summary": _cut(notification.summary, MAX_SUMMARY),
        "source": notification.source,
        "severity": notification.severity.value,
        "timestamp": notification.time_text,
        "custom_details": dict(notification.details),
    }
    if settings.component:
        payload["component"] = settings.component
    if settings.group:
        payload["group"] = settings.group
    event.update(client="drkit", payload=payload)
    if notification.url:
        link = {"href": notification.url, "text": "drkit"}
        event.update(client_url=notification.url, links=[link])
    return event


class PagerDutyNotifier(Notifier):
    """Triggers and resolves PagerDuty incidents keyed by the notification's dedup key."""

    type = "pagerduty"

    def __init__(
        self, name: str, settings: PagerDutySettings, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        source = SecretSource(
            name, "routing key", settings.routing_key_env, settings.routing_key_file
        )
        self._routing_key = source.require(environ)

    def describe(self) -> str:
        return self.settings.target()

    def event(self, notification: Notification) -> dict[str, object]:
        return pagerduty_event(notification, self._routing_key, self.settings)

    def send(self, notification: Notification) -> None:
        from drkit.notify.http_client import HttpTarget, post

        target = HttpTarget(self.settings.url, self.settings.timeout_s, self.settings.ca_file)
        post(f"pagerduty {self.name!r}", target, encode(self.event(notification)), {})


def build(
    settings: PagerDutySettings, name: str, environ: Mapping[str, str] | None = None
) -> PagerDutyNotifier:
    """The notifier ``name`` configured by ``settings`` (reads its secrets now)."""
    return PagerDutyNotifier(name, settings, environ=environ)


PLUGIN = Plugin("pagerduty", PagerDutySettings, build, "pagerduty notifier")
