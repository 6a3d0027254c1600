"""``process.stop``: stop a process named by its pid file, politely first.

Sends ``signal`` (TERM by default) to the process (with ``group: true``, to
its whole process group, as ``process.start`` makes one per process), waits
up to ``timeout_s`` for it to exit, then sends KILL when ``kill_after`` is
set. A missing pid file or a process already gone is success (a stop is
idempotent), and a stale pid file is removed. Outputs: ``pid``,
``was_running``, ``killed`` (KILL was needed).
"""

from __future__ import annotations

import os
import signal
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, poll
from drkit.runbooks.actions.ha_process import alive, live_pid, remove_pidfile
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class StopSignal(StrEnum):
    TERM = "TERM"
    INT = "INT"
    QUIT = "QUIT"
    HUP = "HUP"
    KILL = "KILL"


class StopArgs(ActionArgs):
    name: str = ""
    pidfile: Path
    signal: StopSignal = StopSignal.TERM
    group: bool = Field(default=True, description="Signal the process group, not only the pid.")
    timeout_s: float = Field(default=10.0, gt=0, le=3600)
    kill_after: bool = Field(default=True, description="Send KILL when timeout_s passes.")

    @property
    def label(self) -> str:
        return self.name or str(self.pidfile)


@register
class ProcessStop(Action[StopArgs]):
    type = "process.stop"

    def run(self, args: StopArgs, ctx: ActionContext) -> ActionResult:
        pid = live_pid(args.pidfile)
        if pid is None:
            remove_pidfile(args.pidfile)
            outputs = {"pid": "", "was_running": flag(False), "killed": flag(False)}
            return ActionResult(output=f"{args.label} is not running", outputs=outputs)
        killed = _stop(args, pid, ctx)
        remove_pidfile(args.pidfile)
        how = "killed" if killed else f"stopped with SIG{args.signal}"
        outputs = {"pid": str(pid), "was_running": flag(True), "killed": flag(killed)}
        return ActionResult(output=f"{args.label} (pid {pid}) {how}", outputs=outputs)

    def describe(self, args: StopArgs) -> str:
        return f"stop {args.label} (pid from {args.pidfile}) with SIG{args.signal}"


def _stop(args: StopArgs, pid: int, ctx: ActionContext) -> bool:
    """Signal, wait, maybe KILL; True when KILL was needed."""
    _send(args, pid, signal.Signals[f"SIG{args.signal}"])
    ctx.log(f"sent SIG{args.signal} to {args.label} (pid {pid})")
    if _wait_gone(pid, ctx, args.timeout_s):
        return False
    if not args.kill_after:
        raise ActionFailed(
            f"{args.label} (pid {pid}) still runs {args.timeout_s:g} s after SIG{args.signal}",
            hint="raise timeout_s, or set kill_after: true",
        )
    _send(args, pid, signal.SIGKILL)
    ctx.log(f"sent SIGKILL to {args.label} (pid {pid})")
    if not _wait_gone(pid, ctx, 10.0):
        raise ActionFailed(f"{args.label} (pid {pid}) survived SIGKILL", hint="see `ps -p {pid}`")
    return True


def _send(args: StopArgs, pid: int, sig: signal.Signals) -> None:
    try:
        if args.group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass  # it exited meanwhile: that is what we want
    except PermissionError as exc:
        raise ActionFailed(
            f"not allowed to signal {args.label} (pid {pid})",
            hint="run drkit as the process's user or as root",
        ) from exc


def _wait_gone(pid: int, ctx: ActionContext, timeout_s: float) -> bool:
    def gone() -> bool | None:
        return True if not alive(pid) else None

    return poll(ctx, gone, timeout_s=timeout_s, interval_s=0.05) is not None
