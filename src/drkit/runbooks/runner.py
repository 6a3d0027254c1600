"""The runner: walks a runbook's steps and writes the journal as it goes.

Steps run in order. A step is skipped when its ``when`` is false; an action
step is tried up to ``1 + retries.count`` times, each try within its
timeout; a parallel group runs its members at once and fails when one of
them fails (members with ``on_failure: continue`` excepted). After a
failure the step's ``on_failure`` decides: ``abort`` ends the run,
``continue`` goes on, ``goto:ID`` jumps to a top-level step, and
``rollback`` runs the failing step's own ``rollback`` steps first (it may
have done part of its work: a half-finished restore), then those of every
step completed so far, in the reverse order of completion, then ends the
run as failed.

Every execution is a journal row; a step's outputs go into its row so a
resumed run (see :mod:`drkit.runbooks.replay`) picks them up without
running the step again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from drkit.catalog.runs import RunStatus, StepStatus
from drkit.catalog.types import utcnow
from drkit.runbooks import requests
from drkit.runbooks.context import RunControl
from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.execute import StepExecutor, StepOutcome
from drkit.runbooks.journal import Phase
from drkit.runbooks.model import FailurePolicy, Runbook, Step
from drkit.runbooks.observer import Observer
from drkit.runbooks.replay import Replay
from drkit.runbooks.variables import Variables

MAX_VISITS = 100
"""How often one step may run in a run (goto loops): a guard against endless loops."""


class Ending(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunOutcome:
    """How the walk through the runbook ended."""

    ending: Ending
    error: str | None = None
    failed_step: str | None = None
    rollback_failed: tuple[str, ...] = ()

    @property
    def status(self) -> RunStatus:
        if self.ending is Ending.COMPLETED:
            return RunStatus.SUCCEEDED
        if self.ending is Ending.CANCELLED:
            return RunStatus.CANCELLED
        return RunStatus.FAILED


@dataclass
class _Walk:
    """The state of one walk: where it is and what is done."""

    position: int = 0
    visits: dict[str, int] = field(default_factory=dict)
    completed: list[Step] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, step: Step) -> None:
        with self.lock:
            self.completed.append(step)


class Runner:
    """Runs one runbook once (a new run, a resume or a re-run: the replay decides)."""

    def __init__(
        self,
        runbook: Runbook,
        control: RunControl,
        variables: Variables,
        *,
        replay: Replay | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.runbook = runbook
        self.control = control
        self.executor = StepExecutor(control, variables, replay or Replay(), observer)
        self.walk = _Walk()

    def run(self) -> RunOutcome:
        with self._watch_for_cancel():
            outcome = self._main()
        if self.control.cancel_event.is_set():
            who = self.control.cancelled_by or "an operator"
            return RunOutcome(Ending.CANCELLED, f"cancelled by {who}", outcome.failed_step)
        return outcome

    def _main(self) -> RunOutcome:
        steps = self.runbook.steps
        while self.walk.position < len(steps):
            step = steps[self.walk.position]
            self._count_visit(step)
            result = self._visit(step, Phase.MAIN)
            if self.control.cancel_event.is_set():
                return RunOutcome(Ending.CANCELLED, failed_step=step.id)
            if result.status is not StepStatus.FAILED:
                self.walk.position += 1
                continue
            ending = self._after_failure(step, result)
            if ending is not None:
                return ending
        return RunOutcome(Ending.COMPLETED)

    def _count_visit(self, step: Step) -> None:
        seen = self.walk.visits.get(step.id, 0) + 1
        self.walk.visits[step.id] = seen
        if seen > MAX_VISITS:
            raise RunbookInvalid(
                f"step {step.id!r} ran {MAX_VISITS} times: the goto loop does not end",
                hint="make the loop end, e.g. with a `when` on the step that jumps back",
            )

    def _after_failure(self, step: Step, result: StepOutcome) -> RunOutcome | None:
        """Follow the failed step's on_failure; None means the walk goes on."""
        policy = step.failure_policy
        error = f"step {step.id!r} failed: {result.error}"
        if policy is FailurePolicy.CONTINUE:
            self.walk.position += 1
            return None
        if policy is FailurePolicy.GOTO:
            self.walk.position = [s.id for s in self.runbook.steps].index(step.goto_target or "")
            return None
        if policy is FailurePolicy.ROLLBACK:
            failed = self._rollback(step)
            return RunOutcome(Ending.ROLLED_BACK, error, step.id, failed)
        return RunOutcome(Ending.FAILED, error, step.id)

    def _visit(self, step: Step, phase: Phase, group: str | None = None) -> StepOutcome:
        """Run (or replay, or skip) one step; parallel groups run their members."""
        if step.parallel:
            return self.executor.group(step, phase, lambda: self._members(step, phase))
        result = self.executor.single(step, phase, group)
        if result.status is StepStatus.SUCCEEDED:
            self.walk.done(step)
        return result

    def _members(self, group: Step, phase: Phase) -> StepOutcome:
        with ThreadPoolExecutor(len(group.parallel), thread_name_prefix=group.id) as pool:
            futures = [pool.submit(self._visit, m, phase, group.id) for m in group.parallel]
            try:
                results = [(m, f.result()) for m, f in zip(group.parallel, futures, strict=True)]
            except BaseException:  # interrupted: members must stop, or leaving waits for them
                self.control.cancel_event.set()
                raise
        failed = [
            f"{m.id}: {r.error}"
            for m, r in results
            if r.status is StepStatus.FAILED and m.failure_policy is not FailurePolicy.CONTINUE
        ]
        if failed:
            return StepOutcome(StepStatus.FAILED, "; ".join(failed))
        return StepOutcome(StepStatus.SUCCEEDED)

    def _rollback(self, failing: Step) -> tuple[str, ...]:
        """Undo the failing step, then the completed steps, newest first; the ids that failed."""
        failed: list[str] = []
        undone = [failing, *(s for s in reversed(self.walk.completed) if s is not failing)]
        for done in undone:
            for undo in done.rollback:
                if self.control.cancel_event.is_set():
                    return tuple(failed)
                result = self._visit(undo, Phase.ROLLBACK)
                if result.status is StepStatus.FAILED:
                    failed.append(undo.id)
                    if undo.failure_policy is FailurePolicy.ABORT:
                        return tuple(failed)
        return tuple(failed)

    @contextmanager
    def _watch_for_cancel(self) -> Iterator[None]:
        """Poll the catalog for a cancel request while the run goes on."""
        journal = self.control.journal
        if journal is None:
            yield
            return
        done = threading.Event()
        since = utcnow()

        def watch() -> None:
            while not done.wait(self.control.poll_s):
                found = requests.cancel_request(journal.catalog, journal.run_id, since)
                if found is not None:
                    self.control.cancelled_by = found.actor
                    self.control.cancel_event.set()
                    return

        watcher = threading.Thread(target=watch, daemon=True, name="cancel-watch")
        watcher.start()
        try:
            yield
        finally:
            done.set()
