"""The runbook actions drkit knows: ``action: shell`` picks the shell action.

:data:`ACTIONS` is a :class:`drkit.plugins.Registry` like every kind's: each
action module declares its action with ``@register`` on the class, which
adds ``Plugin(type, Args, class)``. The registry is not keyed by a field of
the arguments (the step's ``action:`` picks the ``with:`` model). The
modules are named in ``BUILTIN_MODULES`` rather than imported, because HA
actions live in ``ha`` (which imports runbooks); :func:`get_action` imports
them first, so the built-in actions are always known; an unknown type is an
error listing the known ones.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar, cast

from drkit.plugins import Plugin, Registry
from drkit.runbooks.actions.base import Action
from drkit.runbooks.errors import RunbookInvalid

BUILTIN_MODULES: tuple[str, ...] = (
    "drkit.runbooks.actions.shell",
    "drkit.runbooks.actions.manual",
    "drkit.runbooks.actions.http",
    "drkit.runbooks.actions.tcp",
    "drkit.runbooks.actions.sql",
    "drkit.runbooks.actions.wait_until",
    "drkit.runbooks.actions.notify",
    "drkit.runbooks.actions.drkit_ops",
    "drkit.runbooks.chaostoolkit.activity",
    "drkit.runbooks.actions.ha_pg_check_primary",
    "drkit.runbooks.actions.ha_pg_promote",
    "drkit.runbooks.actions.ha_pg_lag",
    "drkit.ha.actions.dns_update",
    "drkit.ha.actions.dns_check",
    "drkit.runbooks.actions.ha_process_start",
    "drkit.runbooks.actions.ha_process_stop",
    "drkit.ha.actions.lb_set_state",
    "drkit.ha.actions.loadbalancer",
)
"""Modules whose import registers the built-in actions (HA modules are added here too)."""

ACTIONS = Registry[Any, Action[Any]](
    "action",
    error=RunbookInvalid,
    keyed=False,
    unknown="unknown action {name!r}",
    hint="known actions: {known}",
)
_loaded = False

T = TypeVar("T", bound=type[Action[Any]])


def register(action: T) -> T:
    """Declare ``action`` (its ``type``, its ``Args``, the class); a class decorator."""
    if action.type in ACTIONS:
        if ACTIONS.get(action.type).build is action:
            return action
        raise ValueError(f"action type {action.type!r} is registered twice")
    ACTIONS.register(Plugin(action.type, action.Args, action, (action.__doc__ or "").strip()))
    return action


def get_action(type_name: str) -> type[Action[Any]]:
    """The action class registered as ``type_name``; unknown names list the known ones."""
    _load_builtins()
    return cast("type[Action[Any]]", ACTIONS.get(type_name).build)


def known_types() -> list[str]:
    _load_builtins()
    return ACTIONS.names


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    _loaded = True
