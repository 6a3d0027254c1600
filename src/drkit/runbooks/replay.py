"""Replaying a journal: what a resumed or re-run run takes from before instead of running again.

The runner walks the runbook exactly as it did the first time; at each
step it asks the replay for the next recorded execution of that step. A
finished record (succeeded, failed, skipped) is applied as it was (its
outputs restored, its failure policy followed), so ``when`` conditions and
``goto`` jumps come out the same; an unfinished one (running or waiting when
the process died, interrupted, cancelled) or none at all means: run it now.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Sequence

from drkit.catalog.runs import RunStatus, StepStatus
from drkit.runbooks.errors import RunbookInvalid, RunNotResumable
from drkit.runbooks.journal import Phase, StepRecord
from drkit.runbooks.model import Runbook


class Replay:
    """Recorded executions, handed out per step in the order they happened."""

    def __init__(self, records: Sequence[StepRecord] = (), *, source_run: int | None = None):
        self.source_run = source_run
        """The run the records come from when it is not the current one (a re-run)."""
        self._queues: dict[tuple[Phase, str], deque[StepRecord]] = {}
        for record in records:
            self._queues.setdefault((record.phase, record.step), deque()).append(record)

    def take(self, phase: Phase, step: str) -> StepRecord | None:
        """The next finished record of ``step``, or None: run the step."""
        queue = self._queues.get((phase, step))
        if not queue:
            return None
        record = queue.popleft()
        return record if record.final else None


def for_resume(records: Sequence[StepRecord], status: RunStatus) -> list[StepRecord]:
    """The records a resume replays; a failed run's failing step (and group members) run again."""
    if status is RunStatus.SUCCEEDED:
        raise RunNotResumable("the run succeeded: there is nothing left to run")
    if status is not RunStatus.FAILED or not records:
        return list(records)
    if any(r.phase is Phase.ROLLBACK for r in records):
        raise RunNotResumable(
            "the run failed and was rolled back; resuming it would skip the rollback",
        )
    last = records[-1]
    retry = {last.row_seq} if last.status is StepStatus.FAILED else set()
    retry |= {r.row_seq for r in records if r.group == last.step and r.status is StepStatus.FAILED}
    return [
        dataclasses.replace(r, status=StepStatus.INTERRUPTED) if r.row_seq in retry else r
        for r in records
    ]


def for_rerun(records: Sequence[StepRecord], runbook: Runbook, from_step: str) -> list[StepRecord]:
    """The records before the first execution of top-level step ``from_step``, without
    approvals: a new run never reuses an old run's approval, it asks again."""
    top = [s.id for s in runbook.steps]
    if from_step not in top:
        raise RunbookInvalid(
            f"{from_step!r} is not a top-level step of {runbook.name!r}",
            hint=f"re-run from one of: {', '.join(top)}",
        )
    manual = _manual_steps(runbook)
    kept: list[StepRecord] = []
    for record in records:
        if record.phase is Phase.MAIN and from_step in (record.step, record.group):
            break
        if record.step not in manual:
            kept.append(record)
    return kept


def _manual_steps(runbook: Runbook) -> set[str]:
    found: set[str] = set()
    pending = list(runbook.steps)
    while pending:
        step = pending.pop()
        if step.manual is not None or step.action == "manual":
            found.add(step.id)
        pending += [*step.parallel, *step.rollback]
    return found
