"""The one plugin shape: a registry derives lookup, the settings union and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from drkit.plugins import Plugin, Registry, UnknownType


class AlphaSettings(BaseModel):
    type: Literal["alpha"] = "alpha"
    size: int = 1


class BetaSettings(BaseModel):
    type: Literal["beta"] = "beta"
    name: str


@dataclass
class Alpha:
    settings: AlphaSettings


@dataclass
class Beta:
    settings: BetaSettings


def registry() -> Registry[AlphaSettings | BetaSettings, Alpha | Beta]:
    return Registry(
        "widget", [Plugin("alpha", AlphaSettings, Alpha), Plugin("beta", BetaSettings, Beta)]
    )


def test_build_picks_the_driver_by_type() -> None:
    widgets = registry()
    built = widgets.build(BetaSettings(name="b"))
    assert isinstance(built, Beta) and built.settings.name == "b"
    assert widgets.names == ["alpha", "beta"]
    assert "alpha" in widgets and "gamma" not in widgets


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownType) as caught:
        registry().get("gamma")
    assert "gamma" in caught.value.message
    assert caught.value.hint == "known widget types are alpha, beta"
    assert caught.value.exit_code == 2


def test_settings_union_validates_by_type() -> None:
    widgets = registry()
    parsed = widgets.parse({"type": "beta", "name": "x"})
    assert isinstance(parsed, BetaSettings)

    class Holder(BaseModel):
        widget: widgets.settings_type()  # type: ignore[valid-type]

    assert isinstance(
        Holder.model_validate({"widget": {"type": "alpha", "size": 3}}).widget, AlphaSettings
    )
    with pytest.raises(ValidationError) as caught:
        Holder.model_validate({"widget": {"size": 3}})
    assert "a widget needs `type:`, one of alpha, beta" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        Holder.model_validate({"widget": {"type": "beta"}})
    assert "name" in str(caught.value)


def test_a_declaration_must_match_its_settings_model() -> None:
    with pytest.raises(ValueError, match="needs `type` defaulting to 'gamma'"):
        Registry("widget", [Plugin("gamma", AlphaSettings, Alpha)])
    with pytest.raises(ValueError, match="declared twice"):
        Registry(
            "widget", [Plugin("alpha", AlphaSettings, Alpha), Plugin("alpha", AlphaSettings, Alpha)]
        )
