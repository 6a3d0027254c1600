"""`drkit audit`: who changed or did what, when, from where, and the outcome."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json


def register(app: typer.Typer) -> None:
    app.command()(audit)


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
    actor: Annotated[str | None, typer.Option(help="only what this user did")] = None,
    action: Annotated[
        str | None, typer.Option(help="only this action, or a prefix of it (user., token.)")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the audit log: every change and action through the API and the user commands."""
    from drkit.users.audit import entries

    state: State = ctx.obj
    with state.catalog().session() as s:
        found = entries(s, limit=limit, actor=actor, action=action)
    if json_output:
        print_json([e.to_json() for e in found])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("when (UTC)", "who", "via", "from", "action", "target", "outcome"):
        table.add_column(column)
    for e in found:
        when = f"{e.at:%Y-%m-%d %H:%M:%S}" if e.at else "-"
        outcome = e.outcome.value + (f" ({e.detail})" if e.detail else "")
        table.add_row(when, e.actor, e.via, e.origin, e.action, e.target, outcome)
    out.print(table if found else "the audit log is empty")
