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

This module imports nothing of drkit but :mod:`drkit.errors`, so any package,
``settings`` included, may use it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, Union

from pydantic import BaseModel, Discriminator, Tag, TypeAdapter

from drkit.errors import UsageError

S = TypeVar("S", bound=BaseModel)
D = TypeVar("D")


class UnknownType(UsageError):
    """A ``type:`` that no driver of the kind declares."""

    code = "unknown-type"


@dataclass(frozen=True)
class Plugin(Generic[S, D]):
    """One driver's declaration: its type name, its settings model and its builder."""

    type: str
    settings: builtins.type[S]  # `type` is the field above, hence builtins
    build: Callable[[S], D]
    summary: str = ""


def _type_of(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("type")
        return found if isinstance(found, str) else None
    found = getattr(value, "type", None)
    return found if isinstance(found, str) else None


class Registry(Generic[S, D]):
    """The drivers of one kind, in declaration order, looked up by type name."""

    def __init__(self, kind: str, plugins: Iterable[Plugin[Any, Any]] = ()) -> None:
        self.kind = kind
        self._plugins: dict[str, Plugin[Any, Any]] = {}
        for plugin in plugins:
            self.register(plugin)

    def register(self, plugin: Plugin[Any, Any]) -> None:
        """Add a driver; a second driver of the same type name is a programming error."""
        if plugin.type in self._plugins:
            raise ValueError(f"{self.kind} type {plugin.type!r} is declared twice")
        declared = plugin.settings.model_fields.get("type")
        if declared is None or declared.default != plugin.type:
            raise ValueError(
                f"{self.kind} driver {plugin.type!r}: its settings model "
                f"{plugin.settings.__name__} needs `type` defaulting to {plugin.type!r}"
            )
        self._plugins[plugin.type] = plugin

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

    def get(self, name: str) -> Plugin[Any, Any]:
        """The declaration of ``name``, or :class:`UnknownType` naming the known types."""
        try:
            return self._plugins[name]
        except KeyError:
            raise UnknownType(
                f"unknown {self.kind} type {name!r}",
                hint=f"known {self.kind} types are {self.known()}",
            ) from None

    def build(self, settings: S) -> D:
        """The driver for ``settings`` (its ``type`` field picks the plugin)."""
        name = _type_of(settings)
        plugin = self.get(name or "")
        result: D = plugin.build(settings)
        return result

    def settings_type(self) -> Any:
        """The discriminated union of every driver's settings model, for a pydantic field.

        Typed as ``Any`` because the union is made at run time; modules that use it as
        a field type declare it under ``if TYPE_CHECKING:`` as their base settings model.
        """
        if not self._plugins:
            raise ValueError(f"no {self.kind} driver is registered")
        members = tuple(Annotated[p.settings, Tag(p.type)] for p in self._plugins.values())
        union = members[0] if len(members) == 1 else Union[members]  # noqa: UP007
        return Annotated[
            union,
            Discriminator(
                _type_of,
                custom_error_type=f"{self.kind.replace(' ', '_')}_type",
                custom_error_message=f"a {self.kind} needs `type:`, one of {self.known()}",
            ),
        ]

    def parse(self, data: Any) -> S:
        """Validate a mapping (``{type: ..., ...}``) into the settings of its driver."""
        adapter: TypeAdapter[S] = TypeAdapter(self.settings_type())
        return adapter.validate_python(data)
