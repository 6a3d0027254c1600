"""Reading a repository passphrase from a file or a command, with errors a user can act on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from drkit.errors import UsageError


def read_password_file(path: Path) -> str:
    """The passphrase in ``path`` without its trailing newline; OSError becomes a UsageError."""
    try:
        text = path.expanduser().read_text()
    except OSError as exc:
        raise UsageError(
            f"cannot read the password file {path}: {exc.strerror}",
            hint="check the path given by --password-file or drkit.yaml",
        ) from exc
    return text.rstrip("\r\n")


def run_password_command(command: str) -> str:
    """What ``command`` (a shell line) prints, without its trailing newline."""
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise UsageError(
            f"cannot run the password command: {exc.strerror}",
            hint="check password_command in drkit.yaml",
        ) from exc
    if done.returncode != 0:
        raise UsageError(
            f"the password command failed with exit code {done.returncode}",
            hint=done.stderr.strip()[:200] or "run it by hand to see why",
        )
    return done.stdout.rstrip("\r\n")


def no_passphrase(confirm: bool) -> str:
    """The passphrase source of a face with nobody to ask (API, agent): always an error."""
    raise UsageError("no passphrase given", hint="set DRKIT_PASSWORD, or pass --password-file FILE")
