"""Build a notifier from its settings: ``type: slack`` in drkit.yaml picks the driver.

The table below is the whole list of drivers; an unknown type is an error
listing the known ones. Building reads the notifier's secrets (environment
variable or file), so a missing secret is reported when the notifier is built,
not when the first alert fires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from drkit.notify.base import Notifier
from drkit.notify.email import EmailNotifier, EmailSettings
from drkit.notify.errors import NotifierNotFound, UnknownNotifierType
from drkit.notify.memory import MemoryNotifier, MemorySettings
from drkit.notify.pagerduty import PagerDutyNotifier, PagerDutySettings
from drkit.notify.slack import SlackNotifier, SlackSettings
from drkit.notify.webhook import WebhookNotifier, WebhookSettings

Environ = Mapping[str, str] | None


@dataclass(frozen=True)
class Driver:
    """One kind of notifier: its settings model and how to build it."""

    name: str
    settings: type[BaseModel]
    build: Callable[[str, BaseModel, Environ], Notifier]


def _webhook(name: str, settings: BaseModel, environ: Environ) -> Notifier:
    assert isinstance(settings, WebhookSettings)
    return WebhookNotifier(name, settings, environ=environ)


def _slack(name: str, settings: BaseModel, environ: Environ) -> Notifier:
    assert isinstance(settings, SlackSettings)
    return SlackNotifier(name, settings, environ=environ)


def _email(name: str, settings: BaseModel, environ: Environ) -> Notifier:
    assert isinstance(settings, EmailSettings)
    return EmailNotifier(name, settings, environ=environ)


def _pagerduty(name: str, settings: BaseModel, environ: Environ) -> Notifier:
    assert isinstance(settings, PagerDutySettings)
    return PagerDutyNotifier(name, settings, environ=environ)


def _memory(name: str, settings: BaseModel, environ: Environ) -> Notifier:
    assert isinstance(settings, MemorySettings)
    return MemoryNotifier(name, settings)


DRIVERS: dict[str, Driver] = {
    driver.name: driver
    for driver in (
        Driver("webhook", WebhookSettings, _webhook),
        Driver("slack", SlackSettings, _slack),
        Driver("email", EmailSettings, _email),
        Driver("pagerduty", PagerDutySettings, _pagerduty),
        Driver("memory", MemorySettings, _memory),
    )
}


def notifier_types() -> tuple[str, ...]:
    """The known ``type:`` values, sorted."""
    return tuple(sorted(DRIVERS))


def build_notifier(name: str, settings: BaseModel, *, environ: Environ = None) -> Notifier:
    """The notifier ``name`` configured by ``settings`` (one of the drivers' models).

    Raises UnknownNotifierType for a type no driver has, NotifierSecretMissing
    when a secret it names cannot be read.
    """
    kind = str(getattr(settings, "type", type(settings).__name__))
    driver = DRIVERS.get(kind)
    if driver is None or not isinstance(settings, driver.settings):
        raise UnknownNotifierType(
            f"notifier {name!r} has the unknown type {kind!r}",
            hint=f"known types: {', '.join(notifier_types())}",
        )
    return driver.build(name, settings, environ)


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
