"""`drkit user token add|list|revoke`: API tokens, shown once, stored as hashes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from drkit.cli.output import out, print_json
from drkit.cli.users import Author, actor, workspace

app = typer.Typer(no_args_is_help=True)

JsonOutput = Annotated[bool, typer.Option("--json")]


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the user the token speaks for")],
    label: Annotated[str, typer.Option(help="what the token is for (a CI job, a script)")] = "",
    permission: Annotated[
        list[str] | None,
        typer.Option(
            "--permission",
            "-p",
            help="a permission the token carries (repeat); default: whatever the user may do",
        ),
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="a duration (12h, 30d, 2w) or an ISO date; default: never")
    ] = None,
    json_output: JsonOutput = False,
    author: Author = None,
) -> None:
    """Create a token for a user; its secret is printed once and never again."""
    from drkit.catalog.types import utcnow
    from drkit.services import users
    from drkit.users import parse_permission
    from drkit.users.tokens import parse_expiry

    now = utcnow()
    perms = [parse_permission(p) for p in permission] if permission else None
    until = parse_expiry(expires, now) if expires else None
    issued = users.add_token(workspace(ctx.obj), actor(author), name, label, perms, until)
    if json_output:
        print_json(issued.to_json(now))
        return
    out.print(f"token {issued.token.id} for {name} (shown once, keep it now):")
    out.print(issued.secret)


@app.command("list")
def list_tokens(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="only this user's tokens")] = None,
    json_output: JsonOutput = False,
) -> None:
    """List tokens (never their secrets): user, permissions, expiry, state."""
    from drkit.catalog.types import utcnow
    from drkit.services import users

    now = utcnow()
    found = users.tokens(workspace(ctx.obj), name)
    if json_output:
        print_json([t.to_json(now) for t in found])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "user", "label", "permissions", "expires", "state"):
        table.add_column(column)
    for t in found:
        perms = "(the user's)" if t.permissions is None else ", ".join(t.permissions)
        expiry = f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never"
        table.add_row(t.id, t.user, t.label, perms, expiry, t.state(now))
    out.print(table if found else "no tokens: `drkit user token add NAME`")


@app.command()
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="a token id from `drkit user token list`")],
    author: Author = None,
) -> None:
    """Revoke a token: it is refused from now on."""
    from drkit.services import users

    token = users.remove_token(workspace(ctx.obj), actor(author), token_id)
    out.print(f"token {token.id} of {token.user} revoked")
