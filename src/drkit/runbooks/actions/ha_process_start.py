"""``process.start``: start an app server process and wait until it is healthy.

The process gets its own session (so it outlives drkit and a Ctrl-C of the
runbook does not reach it), stdin from /dev/null, stdout and stderr appended
to ``log_file``, and its pid in ``pidfile``. With ``health_url`` the step
waits until the URL answers ``health_status`` (and contains ``health_body``
when given); a process that exits meanwhile fails the step at once with the
end of its log, and one that never gets healthy is stopped again so a retry
starts clean. A process already running under the pid file is not started
twice: the step only checks its health (idempotent). Outputs: ``pid``,
``started`` (false when it was already running), ``health`` (the start of the
health answer).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, poll, tail
from drkit.runbooks.actions.ha_process import live_pid, remove_pidfile, write_pidfile
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class StartArgs(ActionArgs):
    name: str = Field(default="", description="What the process is, for messages.")
    argv: list[str] = Field(min_length=1, description="Program and its arguments (no shell).")
    env: dict[str, str] = Field(default_factory=dict, description="Added to the environment.")
    inherit_env: bool = Field(default=True, description="Start from drkit's environment.")
    cwd: Path | None = None
    pidfile: Path
    log_file: Path | None = Field(default=None, description="Default: the pid file + .log.")
    health_url: str | None = None
    health_status: int = Field(default=200, ge=100, le=599)
    health_body: str | None = Field(default=None, description="Text the answer must contain.")
    start_timeout_s: float = Field(default=30.0, gt=0, le=3600)

    @property
    def label(self) -> str:
        return self.name or Path(self.argv[0]).name

    @property
    def log_path(self) -> Path:
        return self.log_file or self.pidfile.with_name(self.pidfile.name + ".log")


@register
class ProcessStart(Action[StartArgs]):
    type = "process.start"

    def run(self, args: StartArgs, ctx: ActionContext) -> ActionResult:
        pid = live_pid(args.pidfile)
        proc = None
        if pid is not None:
            ctx.log(f"{args.label} already runs as pid {pid} ({args.pidfile})")
        else:
            proc = _spawn(args)
            pid = proc.pid
            ctx.log(f"{args.label} started as pid {pid}; log {args.log_path}")
        health = _wait_healthy(args, ctx, proc) if args.health_url else ""
        outputs = {"pid": str(pid), "started": flag(proc is not None), "health": health}
        suffix = f", healthy at {args.health_url}" if args.health_url else ""
        return ActionResult(output=f"{args.label} runs as pid {pid}{suffix}", outputs=outputs)

    def describe(self, args: StartArgs) -> str:
        health = f" and wait until {args.health_url} answers" if args.health_url else ""
        return f"start {args.label} ({' '.join(args.argv)}){health}"


def _spawn(args: StartArgs) -> subprocess.Popen[bytes]:
    env = {**(os.environ if args.inherit_env else {}), **args.env}
    try:
        args.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(args.log_path, "ab") as log:
            proc = subprocess.Popen(
                args.argv,
                cwd=args.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        raise ActionFailed(
            f"cannot start {args.label} ({args.argv[0]}): {exc.strerror or exc}",
            hint="check argv (the program must exist and be executable), cwd and log_file",
        ) from exc
    write_pidfile(args.pidfile, proc.pid)
    return proc


@dataclass
class _HealthProbe:
    """Asks the health URL; remembers why the last answer was not healthy."""

    args: StartArgs
    proc: subprocess.Popen[bytes] | None
    last: str = "no answer yet"

    def __call__(self) -> str | None:
        """The health answer's body once it is what we want; else None."""
        if self.proc is not None and self.proc.poll() is not None:
            _exited(self.args, self.proc.returncode)
        assert self.args.health_url is not None
        try:
            response = httpx.get(self.args.health_url, timeout=2.0)
        except httpx.HTTPError as exc:
            self.last = f"{type(exc).__name__}: {exc}"
            return None
        if response.status_code != self.args.health_status:
            self.last = f"HTTP {response.status_code}: {response.text[:200]}"
            return None
        if self.args.health_body is not None and self.args.health_body not in response.text:
            self.last = f"answer lacks {self.args.health_body!r}: {response.text[:200]}"
            return None
        return response.text


def _wait_healthy(args: StartArgs, ctx: ActionContext, proc: subprocess.Popen[bytes] | None) -> str:
    probe = _HealthProbe(args, proc)
    try:
        answer = poll(ctx, probe, timeout_s=args.start_timeout_s, interval_s=0.1)
    except BaseException:
        _give_up(args, proc)  # cancelled, or it exited: leave nothing half-started behind
        raise
    if answer is None:
        _give_up(args, proc)
        raise ActionFailed(
            f"{args.label} was not healthy within {args.start_timeout_s:g} s: {probe.last}\n"
            f"{tail(args.log_path)}",
            hint=f"see {args.log_path}; raise start_timeout_s if it only needs longer",
        )
    ctx.log(f"healthy: {args.health_url} answered {answer[:120]!r}")
    return answer[:200]


def _exited(args: StartArgs, code: int | None) -> None:
    remove_pidfile(args.pidfile)
    raise ActionFailed(
        f"{args.label} exited with code {code} before it was healthy:\n{tail(args.log_path)}",
        hint=f"see {args.log_path}",
    )


def _give_up(args: StartArgs, proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a process we started that never became healthy, so a retry starts clean."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    remove_pidfile(args.pidfile)
