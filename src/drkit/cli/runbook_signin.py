"""Signing in for `drkit runbook approve|reject|cancel` (and to start a runbook whose approver
must not be its starter): a token, or a password typed at a prompt.

In this order: ``--token-file FILE``; ``--user NAME`` with the password from a
prompt (or the first line of stdin with ``--password-stdin``); ``$DRKIT_TOKEN``;
on a terminal, a prompt for the user name and the password. A password is
never taken from the command line. Without any of them (no terminal) the
command stops with a usage error and a hint.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.errors import UsageError

if TYPE_CHECKING:
    from drkit.services.runbook_approval import Credentials, PasswordCredentials

TokenFileOption = Annotated[
    Path | None,
    typer.Option("--token-file", help="sign in with the drkit token in FILE (or $DRKIT_TOKEN)"),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", "-u", help="sign in as this drkit user with a password (prompted)"),
]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="with --user: read the password from stdin")
]
NO_CREDENTIALS_HINT = (
    "set DRKIT_TOKEN or pass --token-file FILE with a token from "
    "`drkit user token add NAME -p approve`, or --user NAME --password-stdin; "
    "on a terminal drkit asks for a user name and password"
)


def origin() -> str:
    return f"host:{socket.gethostname()}"


def credentials(
    token_file: Path | None, user: str | None, password_stdin: bool, *, ask: bool
) -> Credentials | None:
    """The credentials given, or asked for on a terminal when ``ask``; None when none."""
    from drkit.services.runbook_approval import PasswordCredentials, TokenCredentials

    if token_file is not None:
        return TokenCredentials(_read_token(token_file))
    if user is not None:
        return PasswordCredentials(user, _password(user, password_stdin))
    if password_stdin:
        raise UsageError("--password-stdin needs --user NAME", hint="name the drkit user")
    token = os.environ.get("DRKIT_TOKEN", "").strip()
    if token:
        return TokenCredentials(token)
    if ask and sys.stdin.isatty():
        return ask_password()
    return None


def required(token_file: Path | None, user: str | None, password_stdin: bool) -> Credentials:
    found = credentials(token_file, user, password_stdin, ask=True)
    if found is None:
        raise UsageError("no drkit user signed in", hint=NO_CREDENTIALS_HINT)
    return found


def ask_password() -> PasswordCredentials:
    """The user name (default: the OS user) and the password, typed at the terminal."""
    from drkit.services.runbook_approval import PasswordCredentials

    default = _os_user()
    name = input(f"drkit user [{default}]: ").strip() or default
    return PasswordCredentials(name, getpass.getpass(f"password of {name}: "))


def _password(user: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError(
            f"no password given for {user!r}",
            hint="pass --password-stdin and write the password to stdin, or use a token",
        )
    return getpass.getpass(f"password of {user}: ")


def _read_token(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(
            f"cannot read the token file {path}: {exc.strerror}", hint="check the path"
        ) from exc
    if not text:
        raise UsageError(f"the token file {path} is empty", hint=NO_CREDENTIALS_HINT)
    return text


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@dataclass(frozen=True)
class SignInOptions:
    """The sign-in options of one command."""

    token_file: Path | None = None
    user: str | None = None
    password_stdin: bool = False

    @property
    def explicit(self) -> bool:
        """Whether the command line asked to sign in (not only $DRKIT_TOKEN)."""
        return self.token_file is not None or self.user is not None

    def given(self, *, ask: bool) -> Credentials | None:
        return credentials(self.token_file, self.user, self.password_stdin, ask=ask)

    def required(self) -> Credentials:
        return required(self.token_file, self.user, self.password_stdin)
