"""Executing one step: replay it from the journal, skip it, or run its action; journal it.

Used by the runner for every step it visits; the runner decides the order
and what a failure leads to, this module what one step does and records.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, JsonValue, ValidationError

from drkit.catalog.runs import StepStatus
from drkit.runbooks import template
from drkit.runbooks.actions.base import Action, ActionResult
from drkit.runbooks.actions.registry import get_action
from drkit.runbooks.attempts import Attempts, attempt_with_retries
from drkit.runbooks.context import RunControl, StepContext
from drkit.runbooks.errors import ActionFailed
from drkit.runbooks.expr import holds
from drkit.runbooks.journal import Phase, StepDetails, StepRecord
from drkit.runbooks.model import Step
from drkit.runbooks.observer import Observer, SafeObserver
from drkit.runbooks.replay import Replay
from drkit.runbooks.variables import Variables


@dataclass(frozen=True)
class StepOutcome:
    status: StepStatus
    error: str | None = None


@dataclass(frozen=True)
class ActionPlan:
    """What a step runs: the action type, its raw arguments, the timeout of one attempt."""

    action: str
    args: dict[str, JsonValue]
    timeout_s: float | None

    @classmethod
    def of(cls, step: Step) -> ActionPlan:
        timeout = step.timeout.total_seconds() if step.timeout else None
        if step.manual is not None:
            manual = step.manual
            args: dict[str, JsonValue] = {
                "prompt": manual.prompt,
                "timeout_s": manual.timeout.total_seconds() if manual.timeout else None,
                "approvers": list(manual.approvers) if manual.approvers else None,
                "not_by_starter": manual.not_by_starter,
            }
            return cls("manual", args, timeout)
        assert step.action is not None
        return cls(step.action, dict(step.with_), timeout)


class StepExecutor:
    def __init__(
        self,
        control: RunControl,
        variables: Variables,
        replay: Replay,
        observer: Observer | None,
    ) -> None:
        self.control = control
        self.variables = variables
        self.replay = replay
        self.observer = SafeObserver(observer)

    def single(self, step: Step, phase: Phase, group: str | None) -> StepOutcome:
        record = self.replay.take(phase, step.id)
        if record is not None:
            return self._apply(step, phase, group, record)
        if not self._wanted(step):
            return self._skip(step, phase, group)
        return self._execute(step, phase, group)

    def group(self, step: Step, phase: Phase, members: Callable[[], StepOutcome]) -> StepOutcome:
        """A parallel group: its own journal row around its members' rows."""
        record = self.replay.take(phase, step.id)
        if record is None and not self._wanted(step):
            return self._skip(step, phase, None)
        details = StepDetails(step.id, phase, describe=f"{len(step.parallel)} steps in parallel")
        row = self._begin(details) if record is None else None
        self.observer.step_started(step, phase)
        started = time.monotonic()
        result = members()
        if record is not None:  # members were replayed (or redone) above; the group as recorded
            return self._apply(step, phase, None, record)
        self._end(row, result.status, details, error=result.error)
        self._finished(step, phase, result, started, {})
        return result

    def _wanted(self, step: Step) -> bool:
        return step.when is None or holds(template.compiled(step.when), self.variables.snapshot())

    def _apply(
        self, step: Step, phase: Phase, group: str | None, record: StepRecord
    ) -> StepOutcome:
        """Take a finished step from the journal as if it had just run."""
        self.variables.record(step.id, record.status.value, record.outputs)
        source = self.replay.source_run
        if source is not None:  # a re-run: copy the record into this run's journal
            details = StepDetails(step.id, phase, group, outputs=record.outputs)
            details = dataclasses.replace(details, reused_from=source, reused_status=record.status)
            row = self._begin(details)
            self._end(row, StepStatus.SKIPPED, details, output=f"reused from run {source}")
        return StepOutcome(record.status, record.error)

    def _skip(self, step: Step, phase: Phase, group: str | None) -> StepOutcome:
        details = StepDetails(step.id, phase, group, describe=f"skipped: not ({step.when})")
        row = self._begin(details)
        self._end(row, StepStatus.SKIPPED, details, output=f"`when` is false: {step.when}")
        self.variables.record(step.id, StepStatus.SKIPPED.value, {})
        self.observer.step_finished(step, phase, StepStatus.SKIPPED, None, 0.0)
        return StepOutcome(StepStatus.SKIPPED)

    def _execute(self, step: Step, phase: Phase, group: str | None) -> StepOutcome:
        plan = ActionPlan.of(step)
        action = get_action(plan.action)()
        details = StepDetails(
            step.id, phase, group, plan.action, describe=self._describe(action, plan)
        )
        initial = StepStatus.WAITING if step.manual else StepStatus.RUNNING
        row = self._begin(details, initial)
        self.observer.step_started(step, phase)
        started = time.monotonic()
        tries = attempt_with_retries(
            action,
            lambda: self._args(action, plan),
            lambda n: self._context(step, row, plan),
            step.retries,
            self.control.cancel_event,
        )
        result, outputs = self._outcome(step, tries)
        details = dataclasses.replace(details, outputs=outputs, attempts=tries.count)
        text = "\n".join([*tries.log, tries.result.output if tries.result else ""]).strip()
        self._end(row, result.status, details, output=text, error=result.error, actor=tries.actor)
        self.variables.record(step.id, result.status.value, outputs)
        self._finished(step, phase, result, started, outputs)
        return result

    def _outcome(self, step: Step, tries: Attempts) -> tuple[StepOutcome, dict[str, str]]:
        if tries.result is None:
            if tries.cancelled:
                return StepOutcome(StepStatus.INTERRUPTED, "cancelled"), {}
            return StepOutcome(StepStatus.FAILED, _error_text(tries.error)), {}
        try:
            return StepOutcome(StepStatus.SUCCEEDED), self._outputs(step, tries.result)
        except ActionFailed as exc:
            return StepOutcome(StepStatus.FAILED, _error_text(exc)), {}

    def _outputs(self, step: Step, result: ActionResult) -> dict[str, str]:
        """The action's outputs plus the step's own ``outputs:`` computed from them."""
        outputs = {str(k): str(v) for k, v in result.outputs.items()}
        scope = {**self.variables.snapshot(), **{f"result.{k}": v for k, v in outputs.items()}}
        for key, source in step.outputs.items():
            outputs[key] = template.render_text(source, scope)
        return outputs

    def _args(self, action: Action, plan: ActionPlan) -> BaseModel:
        """Substitute ``${{ }}`` with the values of now, then validate against the action."""
        raw = template.substitute(plan.args, self.variables.snapshot())
        try:
            return action.Args.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'with'}: {e['msg']}" for e in exc.errors()
            )
            raise ActionFailed(f"invalid arguments for {action.type}: {problems}") from exc

    def _describe(self, action: Action, plan: ActionPlan) -> str:
        try:
            return action.describe(self._args(action, plan))
        except ActionFailed:
            return f"{plan.action} {json.dumps(plan.args, default=str)}"

    def _context(self, step: Step, row: int | None, plan: ActionPlan) -> StepContext:
        return StepContext(self.control, step.id, row, self.variables.snapshot(), plan.timeout_s)

    def _begin(self, details: StepDetails, status: StepStatus = StepStatus.RUNNING) -> int | None:
        journal = self.control.journal
        return journal.begin(details, status=status) if journal else None

    def _end(
        self,
        row: int | None,
        status: StepStatus,
        details: StepDetails,
        *,
        output: str = "",
        error: str | None = None,
        actor: str | None = None,
    ) -> None:
        journal = self.control.journal
        if journal is not None and row is not None:
            journal.end(row, status, details, output=output, error=error, actor=actor)

    def _finished(
        self, step: Step, phase: Phase, result: StepOutcome, started: float, _: dict[str, str]
    ) -> None:
        seconds = time.monotonic() - started
        self.observer.step_finished(step, phase, result.status, result.error, seconds)


def _error_text(error: ActionFailed | None) -> str:
    if error is None:
        return "failed"
    return f"{error.message} (hint: {error.hint})" if error.hint else error.message
