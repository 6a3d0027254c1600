"""Reading one secret from where drkit.yaml says it is: an environment variable, a file, a command.

One set of rules for every secret (repository passphrases, notifier keys,
database and etcd passwords):

- ``env``: the variable's value as set; unset or empty is an error.
- ``file``: the first line, its line ending removed and nothing else (a
  passphrase may begin or end with a space); a missing, unreadable or
  non-UTF-8 file, or a first line that is empty or blank, is an error.
- ``command``: run through the shell, its output's first line as for a
  file; a command that fails, cannot start or prints nothing is an error.

Each error is a :class:`~drkit.errors.DrkitError` with a hint, never an
``OSError``. Callers pass the error class their domain reports (its code and
exit code stay theirs); the default is :class:`SecretUnavailable`.

Imports nothing of drkit but :mod:`drkit.errors`, so any package may use it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from drkit.errors import DrkitError, UsageError

__all__ = ["SecretUnavailable", "read_secret"]

COMMAND_TIMEOUT_S = 60.0


class SecretUnavailable(UsageError):
    """A secret that drkit.yaml (or an option) names could not be read."""

    code = "secret-unavailable"


def read_secret(
    what: str,
    *,
    env: str | None = None,
    file: Path | None = None,
    command: str | None = None,
    environ: Mapping[str, str] | None = None,
    error: type[DrkitError] = SecretUnavailable,
) -> str | None:
    """The secret ``what`` (e.g. "the SMTP password of notifier 'mail'"), or None if none is named.

    At most one of ``env``, ``file`` and ``command`` is expected; when several are
    given the first in that order wins (the settings models refuse two).
    """
    if env is not None:
        return _from_env(what, env, os.environ if environ is None else environ, error)
    if file is not None:
        return _from_file(what, file, error)
    if command is not None:
        return _from_command(what, command, error)
    return None


def _from_env(what: str, name: str, environ: Mapping[str, str], error: type[DrkitError]) -> str:
    value = environ.get(name, "")
    if not value:
        raise error(
            f"{what}: the environment variable {name} is not set or empty",
            hint=f"export {name}=... in the environment that runs drkit "
            "(secrets are never written into drkit.yaml)",
        )
    return value


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _from_file(what: str, path: Path, error: type[DrkitError]) -> str:
    full = path.expanduser()
    try:
        text = full.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(
            f"{what}: the file {full} does not exist",
            hint="create it with the secret on its first line (chmod 600), or fix the path",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise error(
            f"{what}: cannot read the file {full}: {why}",
            hint="check the path, and that the user running drkit may read it",
        ) from None
    line = _first_line(text)
    if not line.strip():
        raise error(f"{what}: the file {full} is empty", hint="put the secret on its first line")
    return line


def _from_command(what: str, command: str, error: type[DrkitError]) -> str:
    try:
        done = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            text=True,
            check=False,
            timeout=COMMAND_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(
            f"{what}: the command {command!r} could not run: {exc}",
            hint="run it by hand to see why",
        ) from None
    if done.returncode != 0:
        raise error(
            f"{what}: the command failed with exit code {done.returncode}",
            hint=done.stderr.strip()[:200] or "run it by hand to see why",
        )
    line = _first_line(done.stdout)
    if not line.strip():
        raise error(
            f"{what}: the command printed nothing", hint="it must print the secret on stdout"
        )
    return line
