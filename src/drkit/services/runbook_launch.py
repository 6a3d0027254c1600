"""Starting runbook runs through the API: run with inputs, re-run from a step, resume a
stopped run; 202 with the run's URL.

The run is the launcher's (:mod:`drkit.services.launch`, in serve's background);
the runbook engine writes its steps into it (``existing_run_id``), so its
journal, inputs, starter (the caller) and approvals are those of a run from
the CLI. Bad inputs or an unknown runbook or step are refused before
anything starts (400/404). A resume goes on in the run it resumes
(:func:`drkit.runbooks.service.resume_run`, as `drkit runbook resume`): the
launcher opens that run again instead of recording a new one, and a run that
cannot be resumed (succeeded, rolled back, still running) is refused first (409).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.runbooks import replay, requests, versions
from drkit.runbooks.errors import RunCancelled, RunNotResumable, StepFailed
from drkit.runbooks.journal import records
from drkit.runbooks.model import Runbook
from drkit.runbooks.service import (
    RunKind,
    RunReport,
    RunRequest,
    rerun,
    resolve_inputs,
    resume_run,
    start_run,
)
from drkit.services.audit import Actor, audit
from drkit.services.launch import JournalProgress, Launcher, Operation
from drkit.services.runbook_views import load, runbook_run
from drkit.services.workspace import Workspace
from drkit.users.audit import Outcome

TRIGGER = "api"


@dataclass(frozen=True)
class Planned:
    """A runbook run the launcher is to start: what it runs, and the operation that does."""

    kind: str
    subject: str
    version: str
    operation: Operation
    reopen: Callable[[], int] | None = None  # a resume: the run to go on in


@dataclass(frozen=True)
class RunbookOutcome:
    """How a launched runbook run ended; its JSON is the run's result with the report."""

    catalog: Catalog
    report: RunReport

    def to_json(self) -> dict[str, Any]:
        kept = get_run(self.catalog, self.report.run_id).result  # inputs, starter, approvals
        return {**kept, **self.report.to_json()}

    @staticmethod
    def failure(outcome: Any) -> DrkitError | None:
        report: RunReport = outcome.report
        if report.status is RunStatus.CANCELLED:
            return RunCancelled(f"run {report.run_id} was cancelled: {report.error}")
        if report.status is not RunStatus.SUCCEEDED:
            return StepFailed(f"run {report.run_id} failed: {report.error}")
        return None


def plan_start(
    ws: Workspace, name: str, inputs: dict[str, str], *, drill: bool, user: str
) -> Planned:
    """Run the runbook file ``name`` now (recorded as a version) with ``inputs``."""
    loaded = load(ws, name)
    versions.record(ws.catalog(), loaded)
    book = loaded.runbook
    resolve_inputs(book, inputs)  # refused now, not as a failed run
    _export_config(ws)
    kind = RunKind.DRILL if drill else RunKind.RUNBOOK

    def operation(one: Workspace, progress: JournalProgress) -> RunbookOutcome:
        request = _request(inputs, kind, progress, user)
        return RunbookOutcome(one.catalog(), start_run(one.catalog(), book, one.settings, request))

    return Planned(kind.value, book.name, book.version, operation)


def plan_drill(ws: Workspace, name: str, inputs: dict[str, str], *, user: str) -> Planned:
    """A drill of runbook ``name`` now: the inputs of its first drill in drkit.yaml
    (``runbooks.drills``), those given over them (``drkit runbook run NAME --drill``)."""
    configured = next((d for d in ws.settings.runbooks.drills if d.runbook == name), None)
    given = {**(configured.inputs if configured else {}), **inputs}
    return plan_start(ws, name, given, drill=True, user=user)


def plan_rerun(
    ws: Workspace, run_id: int, from_step: str, inputs: dict[str, str], *, user: str
) -> Planned:
    """A new run of run ``run_id``'s runbook version from ``from_step``."""
    view = runbook_run(ws.catalog(), run_id)
    book = versions.load_version(ws.catalog(), view.subject, view.subject_version or "").runbook
    replay.for_rerun(records(ws.catalog(), run_id), book, from_step)  # an unknown step: now
    resolve_inputs(book, {**view.result.get("inputs", {}), **inputs})
    _export_config(ws)
    kind = RunKind(view.kind)

    def operation(one: Workspace, progress: JournalProgress) -> RunbookOutcome:
        request = _request(inputs, kind, progress, user)
        loader = _loader(one)
        report = rerun(one.catalog(), run_id, from_step, loader, one.settings, request)
        return RunbookOutcome(one.catalog(), report)

    return Planned(kind.value, book.name, book.version, operation)


def plan_resume(ws: Workspace, run_id: int, *, user: str) -> Planned:
    """Go on with the stopped run ``run_id`` at its first unfinished step, in that run."""
    view = runbook_run(ws.catalog(), run_id)
    book = versions.load_version(ws.catalog(), view.subject, view.subject_version or "").runbook
    replay.for_resume(records(ws.catalog(), run_id), view.status)  # succeeded, rolled back: now
    _export_config(ws)
    kind = RunKind(view.kind)
    before: list[tuple[RunStatus, datetime]] = []

    def reopen() -> int:
        claimed_at = utcnow()
        before.append((claim(ws.catalog(), run_id), claimed_at))
        return run_id

    def operation(one: Workspace, progress: JournalProgress) -> RunbookOutcome:
        was, claimed_at = before[0]
        request = _request({}, kind, progress, user, since=claimed_at)
        loader = _loader(one)
        report = resume_run(one.catalog(), run_id, loader, one.settings, request, reopened=was)
        return RunbookOutcome(one.catalog(), report)

    return Planned(kind.value, book.name, book.version, operation, reopen)


def claim(catalog: Catalog, run_id: int) -> RunStatus:
    """Mark a stopped run running again, in one transaction (two resumes at once: one
    wins, the other is refused); the status it had."""
    from drkit.catalog.tables import RunRow

    with catalog.write_session() as session:
        row = session.get_one(RunRow, run_id, with_for_update=True)  # PostgreSQL: the row
        was = RunStatus(row.status)
        if was is RunStatus.RUNNING:
            raise RunNotResumable(
                f"run {run_id} is still running",
                hint=f"cancel it first (POST /api/runs/{run_id}/cancel), or wait for it",
            )
        if was is RunStatus.SUCCEEDED:  # a resume that ended since this one was asked
            raise RunNotResumable(f"run {run_id} succeeded: there is nothing left to run")
        row.status, row.finished_at, row.duration_s, row.error = RunStatus.RUNNING, None, None, None
        row.pid = os.getpid()
    return was


def launch(launcher: Launcher, ws: Workspace, actor: Actor, action: str, planned: Planned) -> int:
    """Start ``planned`` in ``launcher``; audit it as ``action``; the run's id."""
    run_id = launcher.launch(
        planned.kind,
        planned.subject,
        planned.operation,
        judge=RunbookOutcome.failure,
        subject_version=planned.version,
        reopen=planned.reopen,
    )
    audit(ws, actor, action, planned.subject, Outcome.OK, f"run {run_id}")
    return run_id


def _export_config(ws: Workspace) -> None:
    """drkit.* steps run `drkit` in a child process: the same drkit.yaml as this one."""
    if ws.settings_file is not None:
        os.environ["DRKIT_CONFIG"] = str(Path(ws.settings_file).resolve())


def _request(
    inputs: dict[str, str],
    kind: RunKind,
    progress: JournalProgress,
    user: str,
    *,
    since: datetime | None = None,
) -> RunRequest:
    """How the launcher's run goes; a run cancelled while it waited to start (``since``:
    the run's start, or a resume's claim) does not start."""
    catalog, run_id = progress.journal.catalog, progress.journal.run_id
    asked = requests.cancel_request(catalog, run_id, since or get_run(catalog, run_id).started_at)
    if asked is not None:
        raise RunCancelled(f"run {run_id} was cancelled by {asked.actor} before it started")
    return RunRequest(
        inputs=inputs,
        kind=kind,
        trigger=TRIGGER,
        existing_run_id=progress.journal.run_id,
        started_by=user,
    )


def _loader(one: Workspace) -> Any:
    def loader(name: str, version: str) -> Runbook:
        return versions.load_version(one.catalog(), name, version).runbook

    return loader
