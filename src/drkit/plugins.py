"""The one plugin shape of every driver kind.

A driver module declares a :class:`Plugin`: its ``type`` name (what
``type: NAME`` in drkit.yaml picks), its settings model (a pydantic model
whose ``type`` field is the literal name) and its builder (settings in,
driver out). A kind (storage, source, notifier, runbook action, lock store,
database, load balancer, DNS, compute, health check) keeps one
:class:`Registry` of those declarations, and everything else is derived from
it: the discriminated settings union used by drkit.yaml, the lookup by type,
and the "unknown type, known types are ..." error. Nothing is kept by hand in
a second list.

    from drkit.plugins import Plugin, Registry

    PLUGIN = Plugin("haproxy", HaproxySettings, HaproxyDriver)   # in the driver module
    LOAD_BALANCERS = Registry[HaproxySettings, LoadBalancer]("load balancer", [PLUGIN, ...])
    LoadBalancerSettings = LOAD_BALANCERS.settings_type()      # field type in the model
    driver = LOAD_BALANCERS.build(settings)

``settings`` may not import a domain, yet drkit.yaml holds notifiers and
sources. It names such a kind by a :class:`RegistryRef` (the registry's
module and attribute, as a Python entry point does) and uses
:meth:`RegistryRef.field` as the field type: the registry, and with it the
drivers, is imported when the first entry of that kind is validated, so
settings never depend on a driver's code and a drkit.yaml without notifiers
never imports one.

This module imports nothing of drkit but :mod:`drkit.errors`, so any package,
``settings`` included, may use it.
"""

from __future__ import annotations

import builtins
import difflib
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    SerializeAsAny,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from drkit.errors import DrkitError, UsageError

S = TypeVar("S", bound=BaseModel)
D = TypeVar("D")

_PYDANTIC_ERRORS = frozenset(get_args(core_schema.ErrorType))


class UnknownType(UsageError):
    """A ``type:`` that no driver of the kind declares."""

    code = "unknown-type"


class PluginSettings(BaseModel):
    """A base for drivers' settings models: immutable, unknown keys refused, a ``type``.

    ``settings`` types the entries it holds for other kinds as this (the
    driver's own model is what is stored).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str


@dataclass(frozen=True)
class Plugin(Generic[S, D]):
    """One driver's declaration: its type name, its settings model and its builder.

    The builder takes the settings first; a kind may hand it more (a
    notifier's name and environment), which :meth:`Registry.build` passes on.
    """

    type: str
    settings: builtins.type[S]  # `type` is the field above, hence builtins
    build: Callable[..., D]
    summary: str = ""
    schemes: tuple[str, ...] = ()
    """URL schemes that name this driver (``s3://...``, ``postgresql://...``)."""


def _type_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        found = value.get("type")
        return found if isinstance(found, str) else None
    found = getattr(value, "type", None)
    return found if isinstance(found, str) else None


class Registry(Generic[S, D]):
    """The drivers of one kind, in declaration order, looked up by type name.

    ``error`` is the error class of a type no driver declares (a kind's own
    keeps its exit code), worded by ``unknown`` and ``hint``. A kind whose
    settings are picked by a key outside them (a runbook step's ``action:``
    picks its ``with:`` model) is not ``keyed``: its models need no ``type``
    field, and it has no settings union. With ``flat_errors`` a validation error is located
    as the user wrote it (``notifiers.x.url``, not ``notifiers.x.webhook.url``),
    and an unknown key says which key was meant.
    """

    def __init__(
        self,
        kind: str,
        plugins: Iterable[Plugin[Any, Any]] = (),
        *,
        error: type[DrkitError] = UnknownType,
        flat_errors: bool = False,
        keyed: bool = True,
        unknown: str = "unknown {kind} type {name!r}",
        hint: str = "known {kind} types are {known}",
    ) -> None:
        self.kind = kind
        self.error = error
        self.flat_errors = flat_errors
        self.keyed = keyed
        self._unknown = unknown
        self._hint = hint
        self._plugins: dict[str, Plugin[Any, Any]] = {}
        self._adapters: dict[str | None, TypeAdapter[Any]] = {}
        for plugin in plugins:
            self.register(plugin)

    def register(self, plugin: Plugin[Any, Any]) -> None:
        """Add a driver; a second driver of the same type name is a programming error."""
        if plugin.type in self._plugins:
            raise ValueError(f"{self.kind} type {plugin.type!r} is declared twice")
        for scheme in plugin.schemes:
            if self.by_scheme(scheme) is not None:
                raise ValueError(f"{self.kind} URL scheme {scheme!r} is declared twice")
        declared = plugin.settings.model_fields.get("type")
        if self.keyed and (declared is None or declared.default != plugin.type):
            raise ValueError(
                f"{self.kind} driver {plugin.type!r}: its settings model "
                f"{plugin.settings.__name__} needs `type` defaulting to {plugin.type!r}"
            )
        self._plugins[plugin.type] = plugin
        self._adapters.clear()

    def __iter__(self) -> Iterator[Plugin[Any, Any]]:
        return iter(self._plugins.values())

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    @property
    def names(self) -> list[str]:
        """The known type names, sorted (as every error lists them)."""
        return sorted(self._plugins)

    def known(self) -> str:
        return ", ".join(self.names)

    def by_scheme(self, scheme: str) -> Plugin[Any, Any] | None:
        """The driver a URL scheme names (case-insensitive), or None."""
        scheme = scheme.lower()
        return next((p for p in self._plugins.values() if scheme in p.schemes), None)

    @property
    def schemes(self) -> list[str]:
        """Every URL scheme a driver declares, sorted."""
        return sorted(s for p in self._plugins.values() for s in p.schemes)

    def get(self, name: str) -> Plugin[Any, Any]:
        """The declaration of ``name``, or the kind's error naming the known types."""
        try:
            return self._plugins[name]
        except KeyError:
            raise self.error(
                self._unknown.format(kind=self.kind, name=name),
                hint=self._hint.format(kind=self.kind, known=self.known()),
            ) from None

    def settings_of(self, settings: object) -> S:
        """``settings`` as the model of its driver (how code typed by kind narrows an entry)."""
        name = _type_of(settings)
        plugin = self.get(name if name is not None else type(settings).__name__)
        if not isinstance(settings, plugin.settings):
            raise self.error(
                f"{self.kind} settings of type {name!r} are not a {plugin.settings.__name__}",
                hint=f"known {self.kind} types are {self.known()}",
            )
        checked: S = settings
        return checked

    def build(self, settings: object, /, *args: Any, **kwargs: Any) -> D:
        """The driver for ``settings`` (its ``type`` field picks the plugin)."""
        checked = self.settings_of(settings)
        result: D = self._plugins[_type_of(checked) or ""].build(checked, *args, **kwargs)
        return result

    def settings_type(self, *, message: str | None = None) -> Any:
        """The discriminated union of every driver's settings model, for a pydantic field.

        ``message`` (with ``{known}``) replaces the error for a missing or unknown
        ``type``. Typed as ``Any`` because the union is made at run time; modules
        that use it as a field type declare it under ``if TYPE_CHECKING:`` as
        their base settings model.
        """
        if not self._plugins or not self.keyed:
            raise ValueError(f"no {self.kind} driver is registered, or the kind is not keyed")
        members = tuple(Annotated[p.settings, Tag(p.type)] for p in self._plugins.values())
        union: Any = members[0] if len(members) == 1 else Union[members]  # noqa: UP007
        if self.flat_errors and message is None:  # worded by _flat_error
            flat: Any = Annotated[union, Discriminator(_type_of)]
            return Annotated[flat, WrapValidator(self._report_flat)]
        worded = (message or "a {kind} needs `type:`, one of {known}").format(
            kind=self.kind, known=self.known()
        )
        discriminated: Any = Annotated[
            union,
            Discriminator(
                _type_of,
                custom_error_type=f"{self.kind.replace(' ', '_')}_type",
                custom_error_message=worded,
            ),
        ]
        return discriminated

    def parse(self, data: Any, *, message: str | None = None) -> S:
        """Validate a mapping (``{type: ..., ...}``) into the settings of its driver."""
        adapter = self._adapters.get(message)
        if adapter is None:
            adapter = self._adapters[message] = TypeAdapter(self.settings_type(message=message))
        parsed: S = adapter.validate_python(data)
        return parsed

    def _report_flat(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if not isinstance(value, Mapping):
                raise
            errors = [self._flat_error(error, value) for error in exc.errors()]
            raise ValidationError.from_exception_data(exc.title, errors) from None

    def _flat_error(self, error: ErrorDetails, value: Mapping[str, Any]) -> InitErrorDetails:
        """One error of a driver's model, its location without the union's tag."""
        loc, kind = error["loc"], error["type"]
        slug = self.kind.replace(" ", "_")
        if kind == "union_tag_not_found":
            missing = PydanticCustomError(
                f"{slug}_type_missing",
                "missing key 'type'; known types: {known}",
                {"known": self.known()},
            )
            return InitErrorDetails(type=missing, loc=loc, input=value)
        if kind == "union_tag_invalid":
            unknown = PydanticCustomError(
                f"{slug}_type",
                f"unknown {self.kind} type; known types: {{known}}",
                {"known": self.known()},
            )
            return InitErrorDetails(type=unknown, loc=(*loc, "type"), input=value.get("type"))
        tag = loc[0] if loc else None
        loc = loc[1:] if tag in self._plugins else loc
        if kind == "extra_forbidden" and isinstance(tag, str) and tag in self._plugins:
            return InitErrorDetails(type=self._unknown_key(tag, loc), loc=loc, input=error["input"])
        if kind in _PYDANTIC_ERRORS:
            return InitErrorDetails(
                type=kind, loc=loc, input=error["input"], ctx=error.get("ctx", {})
            )
        return InitErrorDetails(
            type=PydanticCustomError(kind, error["msg"]), loc=loc, input=error["input"]
        )

    def _unknown_key(self, tag: str, loc: tuple[int | str, ...]) -> PydanticCustomError:
        allowed = list(self._plugins[tag].settings.model_fields)
        close = difflib.get_close_matches(str(loc[-1]) if loc else "", allowed, n=1)
        advice = (
            f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
        )
        return PydanticCustomError(
            f"{self.kind.replace(' ', '_')}_unknown_key",
            "unknown key for type {tag}; {advice}",
            {"tag": tag, "advice": advice},
        )


class RegistryRef:
    """A kind's :class:`Registry` named by module and attribute, imported on first use.

    This is how ``settings`` holds entries of a kind it may not import: the
    field type :meth:`field` validates each entry with the registry's union,
    importing the registry's module the first time an entry is validated.
    """

    def __init__(self, module: str, attribute: str) -> None:
        self.module = module
        self.attribute = attribute

    @cached_property
    def registry(self) -> Registry[Any, Any]:
        found = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(found, Registry):
            raise TypeError(f"{self.module}.{self.attribute} is not a plugins.Registry")
        return found

    def field(self, *, message: str | None = None) -> Any:
        """A field type: the entry as its driver's model (typed as :class:`PluginSettings`)."""

        def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
            return self.registry.parse(value, message=message)

        return Annotated[SerializeAsAny[PluginSettings], WrapValidator(validate)]
