"""Fake actions for runner tests, registered under ``fake.*``, and helpers to run runbooks.

Every fake appends ``label`` to :data:`EVENTS` when it runs, so tests can
assert what ran and in which order.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from drkit.catalog import Catalog
from drkit.catalog.runs import RunView, get_run
from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed
from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.model import Runbook
from drkit.runbooks.service import RunReport, RunRequest, start_run
from drkit.settings.model import Settings

EVENTS: list[str] = []
_LOCK = threading.Lock()
FAILURES: dict[str, int] = {}
"""fake.flaky: how many more times each label fails."""
GATES: dict[str, threading.Event] = {}
"""fake.gate: a label's step waits until its event is set."""


def reset() -> None:
    EVENTS.clear()
    FAILURES.clear()
    GATES.clear()


def event(text: str) -> None:
    with _LOCK:
        EVENTS.append(text)


class EchoArgs(ActionArgs):
    label: str
    outputs: dict[str, str] = {}


@register
class Echo(Action):
    type = "fake.echo"
    Args = EchoArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, EchoArgs)
        event(args.label)
        return ActionResult(output=f"echo {args.label}", outputs=args.outputs)


class FailArgs(ActionArgs):
    label: str
    message: str = "it broke"


@register
class Fail(Action):
    type = "fake.fail"
    Args = FailArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, FailArgs)
        event(args.label)
        raise ActionFailed(args.message, hint="fix it")


@register
class Flaky(Action):
    """Fails while FAILURES[label] > 0 (counting down), then succeeds."""

    type = "fake.flaky"
    Args = EchoArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, EchoArgs)
        event(args.label)
        with _LOCK:
            left = FAILURES.get(args.label, 0)
            FAILURES[args.label] = left - 1
        if left > 0:
            raise ActionFailed(f"{args.label}: not yet ({left} to go)")
        return ActionResult(outputs=args.outputs)


class SleepArgs(ActionArgs):
    label: str
    seconds: float


@register
class Sleep(Action):
    """Sleeps, polling ctx.cancelled() as actions must."""

    type = "fake.sleep"
    Args = SleepArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, SleepArgs)
        event(f"{args.label}:start")
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            if ctx.cancelled():
                event(f"{args.label}:stopped")
                raise ActionFailed("stopped")
            time.sleep(0.01)
        event(f"{args.label}:end")
        return ActionResult()


@register
class Gate(Action):
    """Waits for GATES[label] (set by the test), recording start and end."""

    type = "fake.gate"
    Args = EchoArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, EchoArgs)
        event(f"{args.label}:start")
        gate = GATES.setdefault(args.label, threading.Event())
        while not gate.wait(0.01):
            if ctx.cancelled():
                raise ActionFailed("stopped")
        event(f"{args.label}:end")
        return ActionResult(outputs=args.outputs)


def runbook(text: str) -> Runbook:
    return parse_runbook(text, Path("test.yaml")).runbook


@dataclass
class Ran:
    report: RunReport
    view: RunView

    def statuses(self) -> list[tuple[str, str]]:
        return [(s.name, s.status.value) for s in self.view.steps]

    def step(self, name: str) -> list[dict[str, object]]:
        return [s.details for s in self.view.steps if s.name == name]


def run(catalog: Catalog, text: str, **request: object) -> Ran:
    report = start_run(
        catalog,
        runbook(text),
        Settings(),
        RunRequest(poll_s=0.02, **request),  # type: ignore[arg-type]
    )
    return Ran(report, get_run(catalog, report.run_id))
