"""`drkit user add|list|remove|grant|revoke|passwd`: drkit's users and what they may do.

Every change is committed together with a new version of drkit's
configuration (author: ``--author`` or the OS user), so the history shows who
changed which user when, and a restore brings users back as they were.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError

if TYPE_CHECKING:  # the catalog (SQLAlchemy) is imported when a command runs
    from sqlalchemy.orm import Session

    from drkit.confighistory.users import Grant

app = typer.Typer(no_args_is_help=True)

Author = Annotated[str | None, typer.Option(help="who makes the change (default: the OS user)")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="user", help="drkit's users, roles and permissions")


@contextmanager
def _change(state: State, author: str | None, message: str) -> Iterator[Session]:
    """A transaction for a user change that also stores the new configuration version."""
    from drkit.confighistory.service import History, default_author

    history = History(state.catalog(), state.settings, state.settings_file, state.home)
    with history.catalog.session() as s:
        yield s
        history.record_drkit(author=author or default_author(), message=message, session=s)


def _grants(names: list[str]) -> list[Grant]:
    from drkit.confighistory.users import parse_grant

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
    from drkit.confighistory.users import store as users
    from drkit.confighistory.users.passwords import hash_password

    grants = _grants(grant or [])
    password_hash = hash_password(_password(password_stdin))
    names = ", ".join(g.value for g in grants) or "nothing"
    with _change(ctx.obj, author, f"user {name} added (granted {names})") as s:
        users.add_user(s, name, password_hash, grants)
    out.print(f"user {name} added")


@app.command("list")
def list_users(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the users with their roles and permissions."""
    from drkit.confighistory import views
    from drkit.confighistory.users import store as users

    state: State = ctx.obj
    with state.catalog().session() as s:
        found = users.list_users(s)
    if json_output:
        print_json([views.user_doc(u) for u in found])
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
    """Remove a user."""
    from drkit.confighistory.users import store as users

    with _change(ctx.obj, author, f"user {name} removed") as s:
        users.remove_user(s, name)
    out.print(f"user {name} removed")


def _change_grants(
    state: State, name: str, grants: list[str], author: str | None, *, revoke: bool
) -> list[str]:
    """Grant or revoke, as one configuration version; what actually changed."""
    from drkit.confighistory.users import store as users

    parsed = _grants(grants)
    what = ", ".join(g.value for g in parsed)
    message = f"user {name}: revoked {what}" if revoke else f"user {name} granted {what}"
    with _change(state, author, message) as s:
        change = users.revoke if revoke else users.grant
        return list(change(s, name, parsed))


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
    from drkit.confighistory.users import store as users
    from drkit.confighistory.users.passwords import hash_password

    password_hash = hash_password(_password(password_stdin))
    with _change(ctx.obj, author, f"user {name}: password changed") as s:
        users.set_password(s, name, password_hash)
    out.print(f"password of {name} changed")
