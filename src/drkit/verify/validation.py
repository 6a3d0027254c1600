"""Validation commands: the user's proof that restored data is usable, not just intact.

A command is an argv list (no shell unless the user asks for one, e.g.
``["sh", "-c", "..."]``). ``{dir}`` in any argument is replaced by the
restore directory, which is also in the environment as
``DRKIT_RESTORE_DIR`` and is the working directory. For a database the
command can start a server on the restored files and run a query.

Each command runs in its own session (process group). When it ends, times
out or is interrupted, whatever is left of that group (a server it started
and did not stop) is killed, so nothing keeps the scratch directory busy.
Output (stdout and stderr together) goes to a temporary file rather than a
pipe: a server left running would otherwise hold the pipe open forever.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from drkit.verify.steps import OUTPUT_TAIL

RESTORE_DIR_ENV = "DRKIT_RESTORE_DIR"
PLACEHOLDER = "{dir}"
KILL_GRACE_S = 5.0  # SIGTERM, then this long, then SIGKILL


@dataclass(frozen=True)
class ValidationCommand:
    argv: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> ValidationCommand:
        """A command line as a user types it (shell-like quoting, no shell)."""
        return cls(tuple(shlex.split(text)))

    def expand(self, directory: str) -> list[str]:
        return [arg.replace(PLACEHOLDER, directory) for arg in self.argv]

    @property
    def name(self) -> str:
        text = " ".join(shlex.join(self.argv).split())  # a script's lines on one line
        return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class CommandOutcome:
    """How a validation command ended; ``error`` is empty when it exited 0 in time."""

    returncode: int | None
    output_tail: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def run_validation(
    command: ValidationCommand, directory: str, timeout: timedelta
) -> CommandOutcome:
    """Run one command against the restore in ``directory``; never raises for its failure."""
    argv = command.expand(directory)
    env = {**os.environ, RESTORE_DIR_ENV: directory}
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            return CommandOutcome(None, "", f"cannot start {argv[0]!r}: {exc.strerror or exc}")
        returncode, error = _wait(proc, timeout)
        return CommandOutcome(returncode, _tail(out), error)


def _wait(proc: subprocess.Popen[bytes], timeout: timedelta) -> tuple[int | None, str]:
    try:
        returncode = proc.wait(timeout.total_seconds())
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return None, f"timed out after {timeout.total_seconds():g} s and was killed"
    except BaseException:  # interrupted: stop it before going up
        _kill_group(proc)
        raise
    _kill_group(proc)  # leftovers of a command that exited
    if returncode != 0:
        return returncode, f"exited with code {returncode}"
    return returncode, ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command's process group; SIGKILL whatever is left after a grace time."""
    if not _signal_group(proc.pid, signal.SIGTERM):
        return
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        proc.poll()  # reap the command itself, or it stays in the group as a zombie
        if not _signal_group(proc.pid, 0):
            return
        time.sleep(0.05)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when no process of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _tail(out: IO[bytes]) -> str:
    out.seek(0, os.SEEK_END)
    size = out.tell()
    out.seek(max(0, size - OUTPUT_TAIL * 4))  # UTF-8: up to 4 bytes a character
    return out.read().decode("utf-8", "replace")[-OUTPUT_TAIL:]
