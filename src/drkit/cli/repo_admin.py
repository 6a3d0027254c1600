"""`drkit init` and `drkit unlock`: parse, run :mod:`drkit.services.repository_admin`, render."""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, out, warn
from drkit.services import repository_admin as service
from drkit.services.repository_admin import Created, Unlocked


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(unlock)


def init(ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create a new, empty repository."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    created = service.init_repository(state.use())
    output.render(created, lambda r: _print_created(r, output))


def _print_created(created: Created, output: Output) -> None:
    if output.quiet:
        return
    out.print(f"created repository {created.id[:8]} at {created.location}")
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
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Remove stale locks (left by crashed processes); --force removes every lock."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    done = service.unlock(state.use(), force=force)
    output.render(done, lambda r: _print_unlocked(r, output))


def _print_unlocked(done: Unlocked, output: Output) -> None:
    for lock in done.stale:
        out.print(f"removed stale {lock.describe()}")
    for lock in done.live:
        if done.forced:
            warn(
                f"removed {lock.describe()}, which may be live: make sure that process is "
                "not running (a prune beside a running backup loses data)"
            )
        else:
            out.print(f"kept live {lock.describe()}")
    if not done.forced and done.live:
        out.print(
            "a live lock from another host whose process crashed: `drkit unlock --force` "
            "removes it (after 30 minutes without refresh it is stale anyway)"
        )
    if not done.stale and not done.live and not output.quiet:
        out.print("no locks")
