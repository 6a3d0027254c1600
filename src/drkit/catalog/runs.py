"""Runs and their journals, written step by step as the work happens.

A crash loses nothing that happened before it: every step start and end is
its own committed transaction. Runs a dead process left ``running`` are
marked ``interrupted`` by :func:`close_abandoned` when the daemon starts.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from drkit.catalog.engine import Catalog
from drkit.catalog.errors import RunNotFound
from drkit.catalog.tables import RunRow, StepRow
from drkit.catalog.types import utcnow
from drkit.catalog.views import (  # re-exported: the views were defined here
    RunStatus as RunStatus,
)
from drkit.catalog.views import (
    RunView as RunView,
)
from drkit.catalog.views import (
    StepStatus as StepStatus,
)
from drkit.catalog.views import (
    StepView as StepView,
)
from drkit.processes import process_alive

OUTPUT_LIMIT = 16 * 1024  # characters of a step's output kept: the tail matters most


class RunJournal:
    """Writes one run's journal; every call is committed before it returns."""

    def __init__(self, catalog: Catalog, run_id: int) -> None:
        self.catalog = catalog
        self.run_id = run_id

    @classmethod
    def start(
        cls,
        catalog: Catalog,
        *,
        kind: str,
        subject: str = "",
        trigger: str = "manual",
        job: str | None = None,
        scheduled_for: datetime | None = None,
        subject_version: str | None = None,
    ) -> RunJournal:
        row = RunRow(
            kind=kind,
            subject=subject,
            subject_version=subject_version,
            job=job,
            trigger=trigger,
            status=RunStatus.RUNNING,
            scheduled_for=scheduled_for,
            started_at=utcnow(),
            host=socket.gethostname(),
            pid=os.getpid(),
            result_json="{}",
        )
        with catalog.session() as session:
            session.add(row)
            session.flush()
            run_id = row.id
        return cls(catalog, run_id)

    def begin_step(self, name: str, *, status: StepStatus = StepStatus.RUNNING) -> int:
        with self.catalog.session() as session:
            seq = len(
                session.scalars(select(StepRow.id).where(StepRow.run_id == self.run_id)).all()
            )
            row = StepRow(
                run_id=self.run_id, seq=seq + 1, name=name, status=status, started_at=utcnow()
            )
            session.add(row)
            session.flush()
            return row.id

    def end_step(
        self,
        step_id: int,
        status: StepStatus,
        *,
        output: str = "",
        error: str | None = None,
        actor: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        with self.catalog.session() as session:
            row = session.get_one(StepRow, step_id)
            row.status = status
            row.finished_at = utcnow()
            row.duration_s = (row.finished_at - row.started_at).total_seconds()
            row.output = output[-OUTPUT_LIMIT:]
            row.error = error
            row.actor = actor
            row.details_json = json.dumps(dict(details or {}), default=str)

    @contextmanager
    def step(self, name: str) -> Iterator[StepOutcome]:
        """Journal the block as a step: failed on an exception, interrupted on Ctrl-C/SIGTERM."""
        step_id = self.begin_step(name)
        outcome = StepOutcome()
        try:
            yield outcome
        except (KeyboardInterrupt, SystemExit) as exc:
            self.end_step(step_id, StepStatus.INTERRUPTED, output=outcome.output, error=repr(exc))
            raise
        except Exception as exc:
            self.end_step(step_id, StepStatus.FAILED, output=outcome.output, error=str(exc))
            raise
        self.end_step(
            step_id,
            outcome.status,
            output=outcome.output,
            error=outcome.error,
            details=outcome.details,
        )

    def finish(
        self,
        status: RunStatus,
        *,
        error: str | None = None,
        result: Mapping[str, Any] | None = None,
        merge: bool = False,
    ) -> None:
        """End the run. ``merge``: ``result`` adds to the keys already there (one transaction
        that holds the write lock from the read on, so no concurrent merge is lost)."""
        with self.catalog.write_session() as session:
            row = session.get(RunRow, self.run_id, with_for_update=True)
            assert row is not None, f"run {self.run_id} is in the catalog"
            row.status = status
            row.finished_at = utcnow()
            row.duration_s = (row.finished_at - row.started_at).total_seconds()
            row.error = error
            if result is not None:
                previous = json.loads(row.result_json or "{}") if merge else {}
                row.result_json = json.dumps({**previous, **result}, default=str)


@dataclass
class StepOutcome:
    """What a step block reports back: its output, and a status other than success."""

    output: str = ""
    status: StepStatus = StepStatus.SUCCEEDED
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def get_run(catalog: Catalog, run_id: int) -> RunView:
    with catalog.session() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            raise RunNotFound(f"no run {run_id}", hint="`drkit runs` lists the runs")
        return _run_view(row, with_steps=True)


def list_runs(
    catalog: Catalog,
    *,
    kind: str | None = None,
    subject: str | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
) -> list[RunView]:
    query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(RunRow.kind == kind)
    if subject is not None:
        query = query.where(RunRow.subject == subject)
    if status is not None:
        query = query.where(RunRow.status == status)
    with catalog.session() as session:
        return [_run_view(row, with_steps=False) for row in session.scalars(query)]


def close_abandoned(
    catalog: Catalog, *, host: str | None = None, only_own_host: bool = False
) -> list[int]:
    """Mark runs left ``running`` by processes that are gone as interrupted; return their ids.

    ``only_own_host``: leave other hosts' runs alone (their processes cannot be
    checked from here, and with two serves another site may be running them).
    """
    host = host or socket.gethostname()
    closed: list[int] = []
    with catalog.session() as session:
        for row in session.scalars(select(RunRow).where(RunRow.status == RunStatus.RUNNING)):
            if only_own_host and row.host != host:
                continue
            if row.host == host and row.pid is not None and _alive(row.pid):
                continue
            _interrupt(row, "the process running it ended without finishing it")
            closed.append(row.id)
    return closed


def _interrupt(row: RunRow, reason: str) -> None:
    """Close a run whose process died: it ended, as far as anyone knows, at its last entry.

    Not at the moment it is found (the next start may be days later): the run's
    duration and an open step's end are those of the last journal entry written.
    """
    last = _last_entry(row)
    row.status = RunStatus.INTERRUPTED
    row.finished_at = last
    row.duration_s = (last - row.started_at).total_seconds()
    row.error = reason
    for step in row.steps:
        if step.status in (StepStatus.RUNNING, StepStatus.WAITING):
            step.status = StepStatus.INTERRUPTED
            step.finished_at = max(last, step.started_at)
            step.duration_s = (step.finished_at - step.started_at).total_seconds()


def _last_entry(row: RunRow) -> datetime:
    times = [row.started_at]
    for step in row.steps:
        times += [t for t in (step.started_at, step.finished_at) if t is not None]
    return max(times)


def _alive(pid: int) -> bool:
    return pid == os.getpid() or process_alive(pid)


def _run_view(row: RunRow, *, with_steps: bool) -> RunView:
    steps = tuple(_step_view(s) for s in row.steps) if with_steps else ()
    return RunView(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        subject_version=row.subject_version,
        job=row.job,
        trigger=row.trigger,
        status=RunStatus(row.status),
        scheduled_for=row.scheduled_for,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        error=row.error,
        host=row.host,
        result=json.loads(row.result_json or "{}"),
        steps=steps,
    )


def _step_view(row: StepRow) -> StepView:
    return StepView(
        seq=row.seq,
        name=row.name,
        status=StepStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        output=row.output,
        error=row.error,
        actor=row.actor,
        details=json.loads(row.details_json or "{}"),
    )
