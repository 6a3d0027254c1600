"""The one plugin shape: a registry derives lookup, the settings union and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from drkit.plugins import Plugin, PluginSettings, Registry, UnknownType


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


def test_schemes_pick_a_driver_and_are_unique() -> None:
    widgets = Registry(
        "widget",
        [
            Plugin("alpha", AlphaSettings, Alpha, schemes=("al", "alpha")),
            Plugin("beta", BetaSettings, Beta),
        ],
    )
    assert widgets.by_scheme("AL") is widgets.get("alpha") and widgets.by_scheme("b") is None
    assert widgets.schemes == ["al", "alpha"]
    with pytest.raises(ValueError, match="scheme 'al' is declared twice"):
        widgets.register(Plugin("gamma", GammaSettings, Alpha, schemes=("al",)))


class GammaSettings(BaseModel):
    type: Literal["gamma"] = "gamma"


def test_settings_of_narrows_and_refuses_a_foreign_model() -> None:
    widgets = registry()
    beta = BetaSettings(name="b")
    assert widgets.settings_of(beta) is beta
    with pytest.raises(UnknownType, match="'gamma'"):
        widgets.settings_of(GammaSettings())

    class FakeBeta(BaseModel):
        type: str = "beta"

    with pytest.raises(UnknownType, match="not a BetaSettings"):
        widgets.build(FakeBeta())


class StrictAlpha(PluginSettings):
    type: Literal["alpha"] = "alpha"
    size: int = 1


def test_flat_errors_locate_as_written_and_suggest_keys() -> None:
    widgets = Registry(
        "widget",
        [Plugin("alpha", StrictAlpha, Alpha), Plugin("beta", BetaSettings, Beta)],
        flat_errors=True,
    )
    with pytest.raises(ValidationError) as caught:
        widgets.parse({"type": "alpha", "sise": 3})
    (error,) = caught.value.errors()
    assert error["loc"] == ("sise",) and "did you mean 'size'?" in error["msg"]
    with pytest.raises(ValidationError) as caught:
        widgets.parse({"type": "delta"})
    (error,) = caught.value.errors()
    assert (
        error["loc"] == ("type",)
        and "unknown widget type; known types: alpha, beta" in error["msg"]
    )


def test_an_unkeyed_kind_needs_no_type_field_and_words_its_error() -> None:
    class Args(BaseModel):
        n: int = 0

    steps = Registry(
        "step", [Plugin("count", Args, Alpha)], keyed=False, unknown="unknown step {name!r}",
        hint="known steps: {known}",
    )  # fmt: skip
    assert steps.get("count").settings is Args
    with pytest.raises(UnknownType) as caught:
        steps.get("nope")
    assert (
        caught.value.message == "unknown step 'nope'" and caught.value.hint == "known steps: count"
    )


def test_a_registry_ref_validates_through_the_named_registry() -> None:
    from drkit.plugins import RegistryRef

    ref = RegistryRef("drkit.notify.registry", "NOTIFIERS")

    class Holder(BaseModel):
        notifier: ref.field()  # type: ignore[valid-type]

    held = Holder.model_validate({"notifier": {"type": "memory"}}).notifier
    assert type(held).__name__ == "MemorySettings"
    assert Holder.model_validate({"notifier": held}).model_dump() == {
        "notifier": {"type": "memory"}
    }
    with pytest.raises(TypeError, match=r"not a plugins\.Registry"):
        RegistryRef("drkit.notify.registry", "notifier_types").registry  # noqa: B018
