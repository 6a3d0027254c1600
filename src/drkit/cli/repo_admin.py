"""`drkit init` and `drkit unlock`."""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.repository.locks import read_locks, remove_stale_locks
from drkit.repository.repo import Repository


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(unlock)


def init(ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create a new, empty repository."""
    state: State = ctx.obj
    backend = state.backend()
    repo = Repository.init(backend, state.password(confirm=True))
    if json_output:
        print_json({"id": repo.config.id, "location": backend.location})
    elif not state.quiet:
        out.print(f"created repository {repo.config.id[:8]} at {backend.location}")
        out.print("keep the passphrase safe: without it the data cannot be restored")


def unlock(ctx: typer.Context) -> None:
    """Remove stale locks (left by crashed processes). Live locks are never removed."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    removed = remove_stale_locks(repo)
    for lock in removed:
        out.print(f"removed stale {lock.describe()}")
    live = read_locks(repo)
    for lock in live:
        out.print(f"kept live {lock.describe()}")
    if not removed and not live and not state.quiet:
        out.print("no locks")
