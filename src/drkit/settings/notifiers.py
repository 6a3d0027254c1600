"""Notification backends in ``drkit.yaml``: one entry per notifier, its driver chosen by ``type``.

```yaml
notifiers:
  ops-webhook:
    type: webhook
    url: https://hooks.example.com/drkit
    secret_env: DRKIT_WEBHOOK_SECRET      # HMAC signing secret
  team-chat:
    type: slack
    url_env: DRKIT_SLACK_URL              # the incoming-webhook URL is a secret
  oncall-mail:
    type: email
    host: smtp.example.com                # STARTTLS on 587 by default
    username: drkit
    password_file: /etc/drkit/smtp.pass
    sender: drkit@example.com
    recipients: [oncall@example.com]
  pager:
    type: pagerduty
    routing_key_env: DRKIT_PAGERDUTY_KEY
```

Each driver owns its settings model (in ``drkit.notify.<driver>``); this
module only joins them into one union keyed by ``type``. An unknown type is
reported with the list of known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any, get_args

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from drkit.notify.email import EmailSettings
from drkit.notify.memory import MemorySettings
from drkit.notify.pagerduty import PagerDutySettings
from drkit.notify.slack import SlackSettings
from drkit.notify.webhook import WebhookSettings

_MODELS: tuple[type[BaseModel], ...] = (
    WebhookSettings,
    SlackSettings,
    EmailSettings,
    PagerDutySettings,
    MemorySettings,
)
_BY_TYPE: dict[str, type[BaseModel]] = {
    str(model.model_fields["type"].default): model for model in _MODELS
}
_PYDANTIC_ERRORS = frozenset(get_args(core_schema.ErrorType))


def _known() -> str:
    return ", ".join(sorted(_BY_TYPE))


def _error(error: ErrorDetails, value: Any) -> InitErrorDetails:
    """One error of a driver's model, its location without the union's tag, worded for people."""
    loc, kind = error["loc"], error["type"]
    if kind == "union_tag_not_found":
        custom = PydanticCustomError(
            "notifier_type_missing", "missing key 'type'; known types: {known}", {"known": _known()}
        )
        return InitErrorDetails(type=custom, loc=loc, input=value)
    if kind == "union_tag_invalid":
        custom = PydanticCustomError(
            "notifier_type", "unknown notifier type; known types: {known}", {"known": _known()}
        )
        return InitErrorDetails(type=custom, loc=(*loc, "type"), input=value.get("type"))
    tag = loc[0] if loc else None
    loc = loc[1:] if tag in _BY_TYPE else loc
    if kind == "extra_forbidden" and isinstance(tag, str) and tag in _BY_TYPE:
        return InitErrorDetails(type=_unknown_key(tag, loc), loc=loc, input=error["input"])
    if kind in _PYDANTIC_ERRORS:
        return InitErrorDetails(type=kind, loc=loc, input=error["input"], ctx=error.get("ctx", {}))
    return InitErrorDetails(
        type=PydanticCustomError(kind, error["msg"]), loc=loc, input=error["input"]
    )


def _unknown_key(tag: str, loc: tuple[int | str, ...]) -> PydanticCustomError:
    allowed = list(_BY_TYPE[tag].model_fields)
    close = difflib.get_close_matches(str(loc[-1]) if loc else "", allowed, n=1)
    advice = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
    return PydanticCustomError(
        "notifier_unknown_key",
        "unknown key for type {tag}; {advice}",
        {"tag": tag, "advice": advice},
    )


def _report_without_tag(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate; on errors, locate them as the user wrote the file (no ``webhook`` level)."""
    try:
        return handler(value)
    except ValidationError as exc:
        if not isinstance(value, Mapping):
            raise
        errors = [_error(error, value) for error in exc.errors()]
        raise ValidationError.from_exception_data(exc.title, errors) from None


NotifierSettings = Annotated[
    Annotated[
        WebhookSettings | SlackSettings | EmailSettings | PagerDutySettings | MemorySettings,
        Field(discriminator="type"),
    ],
    WrapValidator(_report_without_tag),
]
"""The settings of one notifier: the model of the driver its ``type`` names."""

__all__ = [
    "EmailSettings",
    "MemorySettings",
    "NotifierSettings",
    "PagerDutySettings",
    "SlackSettings",
    "WebhookSettings",
]
