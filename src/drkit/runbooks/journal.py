"""The runbook's journal in the catalog: one row per step execution, written as it happens.

A row's ``details`` hold what a resume needs to replay the step without
running it again: the step id, the phase (``main`` or ``rollback``), the
enclosing parallel group, the outputs, the attempts. Writes from parallel
steps are serialised by one lock: SQLite refuses two writers whose
transactions both read first, and the step numbering must not race.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus, StepView, get_run
from drkit.catalog.tables import RunRow, StepRow
from drkit.catalog.types import utcnow

FINAL = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED})


class Phase(StrEnum):
    MAIN = "main"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class StepRecord:
    """What the journal says about one execution of one step."""

    row_seq: int
    step: str
    phase: Phase
    status: StepStatus
    outputs: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    group: str | None = None
    actor: str | None = None
    duration_s: float | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class StepDetails:
    """The typed form of the ``details`` a runbook writes into a journal row."""

    step: str
    phase: Phase
    group: str | None = None
    action: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 0
    describe: str = ""
    reused_from: int | None = None
    reused_status: StepStatus | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step, "phase": self.phase.value}
        optional = {
            "group": self.group,
            "action": self.action,
            "outputs": dict(self.outputs) or None,
            "attempts": self.attempts or None,
            "describe": self.describe or None,
            "reused_from": self.reused_from,
            "reused_status": self.reused_status.value if self.reused_status else None,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


class RunbookJournal:
    """A RunJournal for a runbook run, safe to use from the threads of a parallel group."""

    def __init__(self, journal: RunJournal) -> None:
        self.journal = journal
        self._lock = threading.Lock()

    @property
    def run_id(self) -> int:
        return self.journal.run_id

    @property
    def catalog(self) -> Catalog:
        return self.journal.catalog

    def begin(self, details: StepDetails, *, status: StepStatus = StepStatus.RUNNING) -> int:
        with self._lock:
            row_id = self.journal.begin_step(details.step, status=status)
            self._write_details(row_id, details)
            return row_id

    def set_status(self, row_id: int, status: StepStatus) -> None:
        with self._lock, self.catalog.session() as session:
            session.get_one(StepRow, row_id).status = status

    def end(
        self,
        row_id: int,
        status: StepStatus,
        details: StepDetails,
        *,
        output: str = "",
        error: str | None = None,
        actor: str | None = None,
    ) -> None:
        with self._lock:
            self.journal.end_step(
                row_id, status, output=output, error=error, actor=actor, details=details.as_json()
            )

    def _write_details(self, row_id: int, details: StepDetails) -> None:
        with self.catalog.session() as session:
            session.get_one(StepRow, row_id).details_json = json.dumps(details.as_json())

    def merge_result(self, values: Mapping[str, Any]) -> None:
        """Add keys to the run's result now (the inputs a resume needs), keeping others."""
        with self._lock, self.catalog.write_session() as session:
            row = session.get(RunRow, self.run_id, with_for_update=True)
            assert row is not None, f"run {self.run_id} is in the catalog"
            result = json.loads(row.result_json or "{}")
            result.update(values)
            row.result_json = json.dumps(result, default=str)

    def reopen(self) -> None:
        """Mark a stopped run as running again in this process (resume)."""
        with self._lock, self.catalog.session() as session:
            row = session.get_one(RunRow, self.run_id)
            row.status = RunStatus.RUNNING
            row.finished_at = None
            row.duration_s = None
            row.error = None
            row.pid = os.getpid()
            _interrupt_open_steps(row)

    def interrupt_open_steps(self) -> None:
        """The runbook's steps still running or waiting become interrupted (rows of others stay)."""
        with self._lock, self.catalog.session() as session:
            _interrupt_open_steps(session.get_one(RunRow, self.run_id))

    def finish(self, status: RunStatus, *, error: str | None, result: Mapping[str, Any]) -> None:
        with self._lock:
            self.journal.finish(status, error=error, result=result, merge=True)


def _interrupt_open_steps(row: RunRow) -> None:
    for step in row.steps:
        ours = '"step"' in (step.details_json or "")
        if ours and step.status in (StepStatus.RUNNING, StepStatus.WAITING):
            _interrupt_step(step)


def _interrupt_step(step: StepRow) -> None:
    now = utcnow()
    step.status = StepStatus.INTERRUPTED
    step.finished_at = now
    step.duration_s = (now - step.started_at).total_seconds()


def records(catalog: Catalog, run_id: int) -> list[StepRecord]:
    """The runbook rows of a run's journal, in order (rows other tools wrote are left out)."""
    return [r for r in (_record(s) for s in get_run(catalog, run_id).steps) if r is not None]


def _record(view: StepView) -> StepRecord | None:
    details = view.details
    step = details.get("step")
    if not isinstance(step, str):
        return None
    reused = details.get("reused_status")
    return StepRecord(
        row_seq=view.seq,
        step=step,
        phase=Phase(details.get("phase", Phase.MAIN)),
        status=StepStatus(reused) if reused else view.status,
        outputs={str(k): str(v) for k, v in (details.get("outputs") or {}).items()},
        error=view.error,
        group=details.get("group"),
        actor=view.actor,
        duration_s=None if reused else view.duration_s,
    )
