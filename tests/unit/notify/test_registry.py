"""Building notifiers from settings: the driver table, unknown types, names, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from drkit.notify import (
    MemoryNotifier,
    NotifierNotFound,
    NotifierSecretMissing,
    UnknownNotifierType,
    build_notifier,
    build_notifiers,
    notifier_types,
)
from drkit.notify.email import EmailNotifier, EmailSettings
from drkit.notify.memory import MemorySettings
from drkit.notify.pagerduty import PagerDutyNotifier, PagerDutySettings
from drkit.notify.registry import select
from drkit.notify.slack import SlackNotifier, SlackSettings
from drkit.notify.webhook import WebhookNotifier, WebhookSettings
from tests.unit.notify.samples import sample

ENV = {"KEY": "k3y", "URL": "https://hooks.example.com/T/B/x", "PW": "pw"}


def test_known_types() -> None:
    assert notifier_types() == ("email", "memory", "pagerduty", "slack", "webhook")


@pytest.mark.parametrize(
    ("settings", "kind"),
    [
        (WebhookSettings(url="https://example.com/hook"), WebhookNotifier),
        (SlackSettings(url_env="URL"), SlackNotifier),
        (
            EmailSettings(
                host="smtp.example.com",
                username="drkit",
                password_env="PW",
                sender="drkit@example.com",
                recipients=["a@example.com"],
            ),
            EmailNotifier,
        ),
        (PagerDutySettings(routing_key_env="KEY"), PagerDutyNotifier),
        (MemorySettings(), MemoryNotifier),
    ],
)
def test_each_type_builds_its_driver(settings: BaseModel, kind: type) -> None:
    notifier = build_notifier("n1", settings, environ=ENV)

    assert isinstance(notifier, kind)
    assert notifier.name == "n1" and notifier.type == settings.type  # type: ignore[attr-defined]
    assert repr(notifier) == f"{kind.__name__}('n1')"


def test_an_unknown_type_lists_the_known_ones() -> None:
    class Pigeon(BaseModel):
        type: str = "pigeon"

    with pytest.raises(UnknownNotifierType) as caught:
        build_notifier("coo", Pigeon())
    assert caught.value.exit_code == 31
    assert "'pigeon'" in caught.value.message
    assert caught.value.hint == "known notifier types are email, memory, pagerduty, slack, webhook"


def test_build_notifiers_in_name_order() -> None:
    built = build_notifiers({"b": MemorySettings(), "a": MemorySettings()})

    assert [n.name for n in built] == ["a", "b"]


def test_select_an_unknown_name_lists_the_configured_ones() -> None:
    with pytest.raises(NotifierNotFound) as caught:
        select({"ops": MemorySettings(), "chat": MemorySettings()}, "pager")
    assert caught.value.hint.startswith("configured in drkit.yaml: chat, ops")


def test_a_missing_environment_variable_is_named() -> None:
    with pytest.raises(NotifierSecretMissing) as caught:
        build_notifier("pager", PagerDutySettings(routing_key_env="PD_KEY"), environ={})
    assert caught.value.message == (
        "the routing key of notifier 'pager': the environment variable PD_KEY is not set or empty"
    )
    assert caught.value.code == "notifier-secret-missing"


@pytest.mark.parametrize("content", [None, "", "\n", "  \nsecond line\n"])
def test_a_missing_or_empty_secret_file_is_named(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content)

    with pytest.raises(NotifierSecretMissing, match="secret"):
        build_notifier("ops", WebhookSettings(url="https://e.com/h", secret_file=path), environ={})


def test_secret_file_first_line_is_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("k3y\nignored\n")
    notifier = build_notifier("pager", PagerDutySettings(routing_key_file=path))

    assert isinstance(notifier, PagerDutyNotifier)
    assert notifier.event(sample())["routing_key"] == "k3y"
