"""The explicit registry of runbook actions: ``action: shell`` picks the shell action.

Actions register when their module is imported (``@register`` on the class).
:func:`get_action` imports every module in :data:`BUILTIN_MODULES` first, so
the built-in actions are always known; an unknown type is an error listing
the known ones.
"""

from __future__ import annotations

import importlib

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

_ACTIONS: dict[str, type[Action]] = {}
_loaded = False


def register(action: type[Action]) -> type[Action]:
    """Make ``action`` available under ``action.type``; usable as a class decorator."""
    existing = _ACTIONS.get(action.type)
    if existing is not None and existing is not action:
        raise ValueError(f"action type {action.type!r} is registered twice")
    _ACTIONS[action.type] = action
    return action


def get_action(type_name: str) -> type[Action]:
    """The action class registered as ``type_name``; unknown names list the known ones."""
    _load_builtins()
    try:
        return _ACTIONS[type_name]
    except KeyError:
        raise RunbookInvalid(
            f"unknown action {type_name!r}",
            hint=f"known actions: {', '.join(known_types())}",
        ) from None


def known_types() -> list[str]:
    _load_builtins()
    return sorted(_ACTIONS)


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    _loaded = True
