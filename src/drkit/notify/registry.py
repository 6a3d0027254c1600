"""The notifier drivers drkit knows: ``type: slack`` in drkit.yaml picks the driver.

:data:`NOTIFIERS` is the one list; the settings union drkit.yaml validates
(``drkit.settings.notifiers`` names this registry), the lookup by type and
the "unknown notifier type" error are derived from it. Building reads the
notifier's secrets (environment variable, file), so a missing secret is
reported when the notifier is built, not when the first alert fires.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from drkit.notify import email, memory, pagerduty, slack, webhook
from drkit.notify.base import Notifier
from drkit.notify.config import NotifierModel
from drkit.notify.errors import NotifierNotFound, UnknownNotifierType
from drkit.plugins import Registry

Environ = Mapping[str, str] | None

NOTIFIERS = Registry[NotifierModel, Notifier](
    "notifier",
    [webhook.PLUGIN, slack.PLUGIN, email.PLUGIN, pagerduty.PLUGIN, memory.PLUGIN],
    error=UnknownNotifierType,
    flat_errors=True,
)


def notifier_types() -> tuple[str, ...]:
    """The known ``type:`` values, sorted."""
    return tuple(NOTIFIERS.names)


def build_notifier(name: str, settings: BaseModel, *, environ: Environ = None) -> Notifier:
    """The notifier ``name`` configured by ``settings`` (one of the drivers' models).

    Raises UnknownNotifierType for a type no driver has, NotifierSecretMissing
    when a secret it names cannot be read.
    """
    return NOTIFIERS.build(settings, name, environ)


def build_notifiers(
    configured: Mapping[str, BaseModel], *, environ: Environ = None
) -> list[Notifier]:
    """Every configured notifier, in name order."""
    return [build_notifier(name, configured[name], environ=environ) for name in sorted(configured)]


def select(configured: Mapping[str, BaseModel], name: str) -> BaseModel:
    """The settings of notifier ``name``, or NotifierNotFound listing the configured ones."""
    if name not in configured:
        raise NotifierNotFound(
            f"no notifier {name!r}",
            hint=f"configured in drkit.yaml: {', '.join(sorted(configured)) or 'none'} "
            "(see docs/notifications.md)",
        )
    return configured[name]
