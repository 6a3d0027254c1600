"""`drkit init` and `drkit unlock`."""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json, warn
from drkit.repository.locks import read_locks, remove_all_locks, remove_stale_locks
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


def unlock(
    ctx: typer.Context,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            "--remove-all",
            help="remove every lock, live ones too (a crashed process on another host)",
        ),
    ] = False,
) -> None:
    """Remove stale locks (left by crashed processes); --force removes every lock."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    stale = remove_stale_locks(repo)
    for lock in stale:
        out.print(f"removed stale {lock.describe()}")
    live = remove_all_locks(repo) if force else read_locks(repo)
    for lock in live:
        if force:
            warn(
                f"removed {lock.describe()}, which may be live: make sure that process is "
                "not running (a prune beside a running backup loses data)"
            )
        else:
            out.print(f"kept live {lock.describe()}")
    if not force and live:
        out.print(
            "a live lock from another host whose process crashed: `drkit unlock --force` "
            "removes it (after 30 minutes without refresh it is stale anyway)"
        )
    if not stale and not live and not state.quiet:
        out.print("no locks")
