"""Commands load when they run: `drkit wal-push` imports neither the daemon nor the catalog.

PostgreSQL runs `drkit wal-push` once per WAL segment, and a backup's memory
is compared with restic's: neither should pay for importing SQLAlchemy,
Alembic and every other command's dependencies. The root group knows each
command's name and module; a module is imported (and its commands
registered) only when one of its commands is looked up. `drkit --help`
imports them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # Typer vendors its own Click; these are its types
    from typer._click.core import Command, Context

COMMANDS: dict[str, str] = {
    # name -> module under drkit.cli that registers it (help order)
    "init": "repo_admin",
    "backup": "backup",
    "snapshots": "browse",
    "ls": "browse",
    "diff": "browse",
    "restore": "restore",
    "check": "check",
    "repair": "check",
    "copy": "copy",
    "forget": "forget",
    "prune": "forget",
    "unlock": "repo_admin",
    "key": "keys",
    "status": "status",
    "quickstart": "quickstart",
    "serve": "serve",
    "jobs": "jobs",
    "run-job": "jobs",
    "runs": "runs",
    "alerts": "serve",
    "verify": "verify",
    "drill": "drill",
    "notify": "notify",
    "db": "db",
    "pg": "pg",
    "wal-push": "pg",
    "wal-fetch": "pg",
    "config": "config_history",
    "user": "users",
    "audit": "audit",
    "runbook": "runbook",
    "agent": "agent",
    "ha": "ha",
}


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands come from :data:`COMMANDS`, imported on first use."""

    _loaded: dict[str, TyperGroup] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        return _group_of(module, self._loaded).get_command(ctx, cmd_name)


def _group_of(module: str, loaded: dict[str, TyperGroup]) -> TyperGroup:
    if module not in loaded:
        registering = typer.Typer()
        importlib.import_module(f"drkit.cli.{module}").register(registering)
        group = typer.main.get_group(registering)
        assert isinstance(group, TyperGroup)
        loaded[module] = group
    return loaded[module]
