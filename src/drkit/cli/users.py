"""`drkit user add|list|remove|grant|revoke|passwd|token`: drkit's users and what they may do.

Every change is committed together with a new version of drkit's
configuration (author: ``--author`` or the OS user) and an audit entry, so
the history shows who changed which user when, and a restore brings users
back as they were. The operations are in :mod:`drkit.services.users`.
"""

from __future__ import annotations

import getpass
import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError

if TYPE_CHECKING:  # the catalog (SQLAlchemy) is imported when a command runs
    from drkit.services import Workspace
    from drkit.services.audit import Actor
    from drkit.users import Grant

app = typer.Typer(no_args_is_help=True)

Author = Annotated[str | None, typer.Option(help="who makes the change (default: the OS user)")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")
]


def register(root: typer.Typer) -> None:
    from drkit.cli import user_tokens

    app.add_typer(user_tokens.app, name="token", help="API tokens of a user")
    root.add_typer(app, name="user", help="drkit's users, roles and permissions")


def workspace(state: State) -> Workspace:
    """The workspace, drkit.yaml read (and versioned if it changed) the CLI's way."""
    return state.workspace_read()


def actor(author: str | None) -> Actor:
    """The CLI's actor: ``--author`` or the OS user, on this host."""
    from drkit.confighistory.service import default_author
    from drkit.services.audit import Actor

    return Actor(author or default_author(), "cli", f"host:{socket.gethostname()}")


def _grants(names: list[str]) -> list[Grant]:
    from drkit.users import parse_grant

    return [parse_grant(name) for name in names]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError(
            "no password given", hint="pass --password-stdin and write the password to stdin"
        )
    first = getpass.getpass("password: ")
    if getpass.getpass("repeat the password: ") != first:
        raise UsageError("the passwords differ", hint="type the same password twice")
    return first


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="user name")],
    grant: Annotated[
        list[str] | None,
        typer.Option("--grant", "-g", help="role (viewer, operator, admin) or permission"),
    ] = None,
    password_stdin: PasswordStdin = False,
    author: Author = None,
) -> None:
    """Add a user with a password and roles or permissions."""
    from drkit.services import users
    from drkit.users.passwords import hash_password

    grants = _grants(grant or [])
    password_hash = hash_password(_password(password_stdin))
    users.add_user(workspace(ctx.obj), actor(author), name, password_hash, grants)
    out.print(f"user {name} added")


@app.command("list")
def list_users(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the users with their roles and permissions."""
    from drkit.services import users

    found = users.list_users(workspace(ctx.obj))
    if json_output:
        print_json([u.to_json() for u in found])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("name", "roles", "permissions", "may"):
        table.add_column(column)
    for u in found:
        table.add_row(
            u.name,
            ", ".join(u.roles),
            ", ".join(u.permissions),
            ", ".join(sorted(u.effective)),
        )
    out.print(table if found else "no users yet: `drkit user add NAME --grant admin`")


@app.command()
def remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument()], author: Author = None
) -> None:
    """Remove a user (and their tokens and dashboard sessions)."""
    from drkit.services import users

    users.remove_user(workspace(ctx.obj), actor(author), name)
    out.print(f"user {name} removed")


def _change_grants(
    state: State, name: str, grants: list[str], author: str | None, *, revoke: bool
) -> list[str]:
    """Grant or revoke, as one configuration version; what actually changed."""
    from drkit.services import users

    changed = users.change_grants(
        workspace(state), actor(author), name, _grants(grants), revoke=revoke
    )
    return [g.value for g in changed]


@app.command("grant")
def grant_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    grants: Annotated[list[str], typer.Argument(help="roles or permissions")],
    author: Author = None,
) -> None:
    """Give a user roles or permissions."""
    changed = _change_grants(ctx.obj, name, grants, author, revoke=False)
    out.print(f"{name}: granted {', '.join(changed) or 'nothing new'}")


@app.command()
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    grants: Annotated[list[str], typer.Argument(help="roles or permissions")],
    author: Author = None,
) -> None:
    """Take roles or permissions from a user."""
    changed = _change_grants(ctx.obj, name, grants, author, revoke=True)
    out.print(f"{name}: revoked {', '.join(changed) or 'nothing (not granted)'}")


@app.command()
def passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    password_stdin: PasswordStdin = False,
    author: Author = None,
) -> None:
    """Set a user's password."""
    from drkit.services import users
    from drkit.users.passwords import hash_password

    password_hash = hash_password(_password(password_stdin))
    users.set_password(workspace(ctx.obj), actor(author), name, password_hash)
    out.print(f"password of {name} changed")
