"""Reading a repository passphrase from a file or a command, with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

from drkit.errors import UsageError
from drkit.secrets import read_secret


def read_password_file(path: Path) -> str:
    """The passphrase on the first line of ``path`` (drkit.secrets' one rule; never an OSError)."""
    secret = read_secret("the repository password", file=path, error=UsageError)
    assert secret is not None  # a file was named
    return secret


def run_password_command(command: str) -> str:
    """The first line ``command`` (a shell line) prints (drkit.secrets' one rule)."""
    secret = read_secret("the repository password command", command=command, error=UsageError)
    assert secret is not None  # a command was named
    return secret


def no_passphrase(confirm: bool) -> str:
    """The passphrase source of a face with nobody to ask (API, agent): always an error."""
    raise UsageError("no passphrase given", hint="set DRKIT_PASSWORD, or pass --password-file FILE")
