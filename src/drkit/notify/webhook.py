"""Generic webhook: the notification as JSON in an HTTP POST, optionally HMAC-signed.

The body (``version`` 1; documented in docs/notifications.md)::

    {"version": 1, "event_id": "…", "notifier": "ops", "action": "trigger",
     "dedup_key": "rpo:app:offsite", "severity": "error", "summary": "…",
     "source": "…", "time": "2024-05-01T02:00:00Z", "details": {"k": "v"}, "url": null}

With a secret, every request carries ``X-Drkit-Timestamp`` (Unix seconds at
sending) and ``X-Drkit-Signature: sha256=HEX``, where HEX is the HMAC-SHA256
of ``TIMESTAMP + "." + raw body`` under the secret. The timestamp is signed so
a captured request cannot be replayed later: receivers refuse old ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from drkit.notify.base import Notification, Notifier
from drkit.notify.config import (
    DEFAULT_TIMEOUT_S,
    EnvName,
    HeaderName,
    HttpUrl,
    NotifierModel,
    SecretFile,
    SecretSource,
    Timeout,
    check_secret_pair,
)
from drkit.plugins import Plugin

PAYLOAD_VERSION = 1
SIGNATURE_HEADER = "X-Drkit-Signature"
TIMESTAMP_HEADER = "X-Drkit-Timestamp"
EVENT_HEADER = "X-Drkit-Event"
EVENT_ID_HEADER = "X-Drkit-Event-Id"
_RESERVED = {"content-type", "content-length", "host", "user-agent"}


class WebhookSettings(NotifierModel):
    """``type: webhook``: POST the notification as JSON to ``url``."""

    type: Literal["webhook"] = "webhook"
    url: HttpUrl = Field(description="Where to POST (http:// or https://).")
    secret_env: EnvName | None = Field(
        default=None, description="Environment variable holding the HMAC signing secret."
    )
    secret_file: SecretFile | None = Field(
        default=None, description="File holding the HMAC signing secret (first line)."
    )
    headers: dict[HeaderName, str] = Field(
        default_factory=dict, description="Extra headers sent with every request."
    )
    header_env: dict[HeaderName, EnvName] = Field(
        default_factory=dict,
        description="Extra headers whose values are secrets: header name -> environment variable.",
    )
    timeout_s: Timeout = Field(default=DEFAULT_TIMEOUT_S, description="Seconds per attempt.")
    ca_file: SecretFile | None = Field(
        default=None, description="CA certificate(s) to trust for an https:// URL."
    )

    @model_validator(mode="after")
    def _check(self) -> WebhookSettings:
        check_secret_pair(self.secret_env, self.secret_file, prefix="secret", required=False)
        names = [name.lower() for name in [*self.headers, *self.header_env]]
        for name in names:
            if name in _RESERVED or name.startswith("x-drkit-"):
                raise PydanticCustomError(
                    "reserved_header", "drkit sets the header {name} itself", {"name": name}
                )
        if len(set(names)) != len(names):
            raise PydanticCustomError(
                "repeated_header", "a header is named in both headers and header_env"
            )
        return self

    def target(self) -> str:
        """Where it delivers, for listings (names the secret's source, never the secret)."""
        secret = SecretSource("", "", self.secret_env, self.secret_file)
        signed = f", signed (secret from {secret.describe()})" if secret.configured else ""
        return f"POST {self.url}{signed}"


def webhook_payload(notification: Notification, notifier: str) -> dict[str, object]:
    """The JSON document a webhook receives (see the module docstring)."""
    return {
        "version": PAYLOAD_VERSION,
        "event_id": notification.event_id,
        "notifier": notifier,
        "action": notification.action.value,
        "dedup_key": notification.dedup_key,
        "severity": notification.severity.value,
        "summary": notification.summary,
        "source": notification.source,
        "time": notification.time_text,
        "details": dict(notification.details),
        "url": notification.url,
    }


def encode(payload: Mapping[str, object]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=HEX``: HMAC-SHA256 over ``b"TIMESTAMP." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookNotifier(Notifier):
    """POSTs the JSON payload; signs it when a secret is configured."""

    type = "webhook"

    def __init__(
        self,
        name: str,
        settings: WebhookSettings,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.settings = settings
        source = SecretSource(name, "signing secret", settings.secret_env, settings.secret_file)
        self._secret = source.read(environ)
        self._headers = {**settings.headers, **_env_headers(name, settings, environ)}
        self._clock = clock

    def describe(self) -> str:
        return self.settings.target()

    def send(self, notification: Notification) -> None:
        from drkit.notify.http_client import HttpTarget, post

        body = encode(webhook_payload(notification, self.name))
        target = HttpTarget(self.settings.url, self.settings.timeout_s, self.settings.ca_file)
        post(f"webhook {self.name!r}", target, body, self.headers_for(notification, body))

    def headers_for(self, notification: Notification, body: bytes) -> dict[str, str]:
        """Custom headers, event headers and, with a secret, timestamp and signature."""
        headers = {
            **self._headers,
            EVENT_HEADER: notification.action.value,
            EVENT_ID_HEADER: notification.event_id,
        }
        if self._secret is not None:
            timestamp = int(self._clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        return headers


def _env_headers(
    name: str, settings: WebhookSettings, environ: Mapping[str, str] | None
) -> dict[str, str]:
    return {
        header: SecretSource(name, f"{header} header", env=variable).require(environ)
        for header, variable in settings.header_env.items()
    }


def build(
    settings: WebhookSettings, name: str, environ: Mapping[str, str] | None = None
) -> WebhookNotifier:
    """The notifier ``name`` configured by ``settings`` (reads its secrets now)."""
    return WebhookNotifier(name, settings, environ=environ)


PLUGIN = Plugin("webhook", WebhookSettings, build, "webhook notifier")
