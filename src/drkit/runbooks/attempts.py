"""One step's action, tried until it succeeds or its retries run out, each try time-boxed.

An attempt runs the action in a daemon thread and waits at most the step's
timeout; then it sets the attempt's stop event (``ctx.cancelled()`` turns
true, so a well-behaved action stops, and its child processes are killed)
and reports a timeout without waiting further. A thread stuck in a library
call that ignores both is abandoned: it cannot hold up the run, nor the
process's exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from drkit.runbooks.actions.base import Action, ActionResult
from drkit.runbooks.context import StepContext
from drkit.runbooks.errors import ActionFailed
from drkit.runbooks.model import Retries

ContextFactory = Callable[[int], StepContext]
"""Builds the context of attempt N (1-based)."""


@dataclass
class Attempts:
    """What the tries of one step came to."""

    result: ActionResult | None = None
    error: ActionFailed | None = None
    count: int = 0
    log: list[str] = field(default_factory=list)
    actor: str | None = None
    cancelled: bool = False


def attempt_with_retries(
    action: Action,
    args: Callable[[], BaseModel],
    make_context: ContextFactory,
    retries: Retries,
    cancel: threading.Event,
) -> Attempts:
    """Run the action up to ``1 + retries.count`` times; stop early on success or cancel.

    ``args`` is called before every attempt: arguments are validated anew,
    and a validation error fails the attempt like any other error.
    """
    outcome = Attempts()
    while True:
        outcome.count += 1
        ctx = make_context(outcome.count)
        _one_attempt(action, args, ctx, outcome)
        outcome.log += ctx.lines
        outcome.actor = ctx.actor or outcome.actor
        if outcome.result is not None or cancel.is_set():
            outcome.cancelled = outcome.result is None
            return outcome
        if outcome.count > retries.count:
            return outcome
        delay = retries.delay(outcome.count)
        assert outcome.error is not None
        outcome.log.append(f"attempt {outcome.count} failed: {outcome.error}; next in {delay:g}s")
        if cancel.wait(delay):
            outcome.cancelled = True
            return outcome


def _one_attempt(
    action: Action, args: Callable[[], BaseModel], ctx: StepContext, outcome: Attempts
) -> None:
    outcome.result, outcome.error = None, None
    try:
        validated = args()
    except ActionFailed as exc:
        outcome.error = exc
        return
    box: dict[str, ActionResult | ActionFailed] = {}
    done = threading.Event()
    worker = threading.Thread(
        target=_call, args=(action, validated, ctx, box, done), daemon=True,
        name=f"step-{ctx.step_id}",
    )  # fmt: skip
    worker.start()
    try:
        stopped = _wait(done, ctx)
    except BaseException:  # Ctrl-C / SIGINT from the daemon: stop the action before leaving
        ctx.stop_event.set()
        done.wait(_GRACE_S * 3)  # an Event, not join(): an interrupted join() forgets the thread
        raise
    if stopped:
        ctx.stop_event.set()
        done.wait(_GRACE_S)  # give a stopped action a moment to clean up
        outcome.error = ActionFailed(stopped)
        return
    found = box.get("result")
    if isinstance(found, ActionResult):
        outcome.result = found
    else:
        outcome.error = found if isinstance(found, ActionFailed) else ActionFailed("no result")


_GRACE_S = 1.0
_TICK_S = 0.05


def _wait(done: threading.Event, ctx: StepContext) -> str:
    """Wait for the attempt; return why it must stop (timeout, cancel), or '' when it ended."""
    deadline = None if ctx.timeout_s is None else time.monotonic() + ctx.timeout_s
    while not done.wait(_TICK_S):
        if ctx.control.cancel_event.is_set():
            return "cancelled"
        if deadline is not None and time.monotonic() >= deadline:
            return f"timed out after {ctx.timeout_s:g}s"
    return ""


def _call(
    action: Action,
    args: BaseModel,
    ctx: StepContext,
    box: dict[str, ActionResult | ActionFailed],
    done: threading.Event,
) -> None:
    """The thread body: every exception becomes an ActionFailed (a bug in an action included)."""
    started = time.monotonic()
    try:
        box["result"] = action.run(args, ctx)
    except ActionFailed as exc:
        box["result"] = exc
    except Exception as exc:
        box["result"] = ActionFailed(
            f"{action.type} failed unexpectedly after {time.monotonic() - started:.1f}s: "
            f"{type(exc).__name__}: {exc}",
            hint="this is a bug in the action; run with --debug for details",
        )
    finally:
        done.set()
