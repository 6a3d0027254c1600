"""Running a child process for an action: output captured, stopped when the step is cancelled.

The child runs in its own process group so a timeout or a cancel kills it and
everything it started (a shell pipeline, a server it forked), not only the
shell in front. It dies with the runner (SIGKILL on parent death, set by
``setpriv --pdeathsig`` between fork and exec, where Python code could
deadlock a threaded runner) and carries the run's marker, so a resume ends
whatever of it is left before starting the step again
(:mod:`drkit.runbooks.orphans`). Output goes to temporary files rather than pipes, so a child
that writes a lot never blocks on a full pipe while we poll.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from drkit.runbooks.actions.base import ActionContext
from drkit.runbooks.errors import ActionFailed
from drkit.runbooks.orphans import RUN_MARKER

POLL_S = 0.05
KILL_GRACE_S = 2.0


@dataclass(frozen=True)
class Finished:
    """A child process that ended: its exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


def run_process(
    command: str | Sequence[str],
    ctx: ActionContext,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    replace_env: bool = False,
    timeout_s: float | None = None,
) -> Finished:
    """Run ``command`` (a shell string or an argv list) until it ends or the step is cancelled.

    ``env`` adds to this process's environment, or replaces it with ``replace_env``;
    past ``timeout_s`` the process is killed and ActionFailed raised.
    """
    full_env = dict(env or {}) if replace_env else {**os.environ, **(env or {})}
    if ctx.run_id is not None:
        full_env[RUN_MARKER] = str(ctx.run_id)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = _start(command, full_env, cwd, out, err)
        try:
            returncode = _wait(proc, ctx, deadline)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        return Finished(returncode, _read(out), _read(err))


def _start(
    command: str | Sequence[str],
    env: Mapping[str, str],
    cwd: Path | None,
    out: IO[bytes],
    err: IO[bytes],
) -> subprocess.Popen[bytes]:
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    if not isinstance(command, str) and not _findable(argv[0], env, cwd):
        raise ActionFailed(  # checked here: behind setpriv, a missing program is only exit 127
            f"cannot start {' '.join(command)!r}: No such file or directory",
            hint="check the command name and that it is installed on this host",
        )
    try:
        return subprocess.Popen(
            _dies_with_parent(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    except OSError as exc:
        shown = command if isinstance(command, str) else " ".join(command)
        raise ActionFailed(
            f"cannot start {shown!r}: {exc.strerror or exc}",
            hint="check the command name and that it is installed on this host",
        ) from exc


def _findable(program: str, env: Mapping[str, str], cwd: Path | None) -> bool:
    if os.sep in program:
        return os.access(Path(cwd or ".") / program, os.X_OK)
    return shutil.which(program, path=env.get("PATH", os.defpath)) is not None


def _dies_with_parent(argv: list[str]) -> list[str]:
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else argv


def _wait(proc: subprocess.Popen[bytes], ctx: ActionContext, deadline: float | None) -> int:
    while True:
        try:
            return proc.wait(timeout=POLL_S)  # returns as soon as the child ends
        except subprocess.TimeoutExpired:
            pass
        if ctx.cancelled():
            _kill_group(proc)
            raise ActionFailed("stopped: the step timed out or the run was cancelled")
        if deadline is not None and time.monotonic() > deadline:
            _kill_group(proc)
            raise ActionFailed("the process took too long and was killed")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's group, SIGKILL it if it is still there after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", errors="replace")
