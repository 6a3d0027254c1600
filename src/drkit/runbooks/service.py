"""Starting, resuming, re-running and cancelling runbook runs.

These are the functions the CLI, the daemon and the API call. A run is a
catalog run of kind ``runbook`` (or ``drill``) whose subject is the runbook's
name and whose subject_version is the version it ran; the inputs go into
the run's result at the start, so a resume has everything it needs.

Approving or rejecting a waiting step needs a signed-in user: that is
:mod:`drkit.services.runbook_approval`, over :mod:`drkit.runbooks.approvals`.

When ``existing_run_id`` is given (``DRKIT_RUN_ID`` from the daemon) the
steps are written into that run and the run is left open: its owner
finishes it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, RunView, get_run
from drkit.catalog.tables import RunRow
from drkit.catalog.types import utcnow
from drkit.errors import UsageError
from drkit.runbooks import replay, requests
from drkit.runbooks.approvals import MANUAL_TRIGGERS, STARTED_BY, needs_signed_in_starter
from drkit.runbooks.context import ApprovalPrompt, RunControl
from drkit.runbooks.errors import RunbookError, RunNotResumable
from drkit.runbooks.journal import RunbookJournal, records
from drkit.runbooks.model import Runbook
from drkit.runbooks.observer import Observer
from drkit.runbooks.orphans import end_step_processes
from drkit.runbooks.replay import Replay
from drkit.runbooks.runner import Ending, Runner, RunOutcome
from drkit.runbooks.variables import Variables
from drkit.settings.model import Settings

RunbookLoader = Callable[[str, str], Runbook]
"""(name, version) -> the runbook exactly as it was in that version."""


class RunKind(StrEnum):
    RUNBOOK = "runbook"
    DRILL = "drill"


KINDS = (RunKind.RUNBOOK.value, RunKind.DRILL.value)


@dataclass(frozen=True)
class RunRequest:
    """How to run: inputs, kind, trigger, and how to reach the operator."""

    inputs: Mapping[str, str] = field(default_factory=dict)
    kind: RunKind = RunKind.RUNBOOK
    trigger: str = "manual"
    prompt: ApprovalPrompt | None = None
    poll_s: float = 0.5
    existing_run_id: int | None = None
    started_by: str | None = None
    """The signed-in drkit user who starts the run (None: nobody signed in, or the schedule)."""


@dataclass(frozen=True)
class RunReport:
    """How a run ended, with its recovery time against the runbook's RTO."""

    run_id: int
    runbook: str
    version: str
    kind: str
    status: RunStatus
    error: str | None
    failed_step: str | None
    rolled_back: bool
    recovery_s: float | None
    rto_s: float | None

    @property
    def rto_met(self) -> bool | None:
        if self.rto_s is None or self.recovery_s is None:
            return None
        return self.status is RunStatus.SUCCEEDED and self.recovery_s <= self.rto_s

    def to_json(self) -> dict[str, Any]:
        """The shape of `drkit runbook run --json` (and of the API)."""
        return {
            "run_id": self.run_id,
            "runbook": self.runbook,
            "version": self.version,
            "kind": self.kind,
            "status": self.status.value,
            "error": self.error,
            "failed_step": self.failed_step,
            "rolled_back": self.rolled_back,
            "recovery_s": self.recovery_s,
            "rto_s": self.rto_s,
            "rto_met": self.rto_met,
        }


def resolve_inputs(runbook: Runbook, given: Mapping[str, str]) -> dict[str, str]:
    """The given inputs plus defaults; unknown or missing inputs are usage errors."""
    unknown = sorted(set(given) - set(runbook.inputs))
    declared = ", ".join(sorted(runbook.inputs)) or "none"
    if unknown:
        raise UsageError(
            f"runbook {runbook.name!r} has no input {unknown[0]!r}",
            hint=f"its inputs: {declared}",
        )
    values = {k: spec.default for k, spec in runbook.inputs.items() if spec.default is not None}
    values.update(given)
    missing = sorted(set(runbook.inputs) - set(values))
    if missing:
        raise UsageError(
            f"runbook {runbook.name!r} needs the input {missing[0]!r}",
            hint=f"pass --input {missing[0]}=VALUE",
        )
    return values


def start_run(
    catalog: Catalog,
    runbook: Runbook,
    settings: Settings,
    request: RunRequest,
    observer: Observer | None = None,
) -> RunReport:
    """Run ``runbook`` from its first step; returns when the run has ended."""
    inputs = resolve_inputs(runbook, request.inputs)
    _check_starter(runbook, request, request.trigger)
    journal = _open_journal(catalog, runbook, request, trigger=request.trigger)
    journal.merge_result(
        {"runbook": runbook.name, "version": runbook.version, "inputs": inputs}
        | {STARTED_BY: request.started_by}
    )
    return _drive(journal, runbook, settings, inputs, Replay(), request, observer)


def resume_run(
    catalog: Catalog,
    run_id: int,
    load: RunbookLoader,
    settings: Settings,
    request: RunRequest,
    observer: Observer | None = None,
    *,
    reopened: RunStatus | None = None,
) -> RunReport:
    """Go on with a stopped run at its first unfinished step, reusing recorded outputs.

    ``reopened`` is the status the run had when its caller (the API's launcher) opened it
    again for this resume: that caller owns the run and finishes it; otherwise the
    resume reopens the run and finishes it itself.
    """
    view = _runbook_run(catalog, run_id)
    if reopened is None:
        _refuse_live(catalog, view)
    kept = replay.for_resume(records(catalog, run_id), reopened or view.status)
    end_step_processes(run_id)  # what the dead runner's step left running goes first
    runbook = load(view.subject, view.subject_version or "")
    journal = RunbookJournal(RunJournal(catalog, run_id))
    journal.reopen()
    inputs = dict(view.result.get("inputs", {}))  # the run's own inputs, not new ones
    owner = None if reopened is None else run_id
    owned = replace(request, inputs=inputs, kind=RunKind(view.kind), existing_run_id=owner)
    return _drive(journal, runbook, settings, inputs, Replay(kept), owned, observer)


def rerun(
    catalog: Catalog,
    run_id: int,
    from_step: str,
    load: RunbookLoader,
    settings: Settings,
    request: RunRequest,
    observer: Observer | None = None,
) -> RunReport:
    """A new run of the same runbook version, taking the steps before ``from_step`` as recorded."""
    view = _runbook_run(catalog, run_id)
    runbook = load(view.subject, view.subject_version or "")
    kept = replay.for_rerun(records(catalog, run_id), runbook, from_step)
    inputs = resolve_inputs(runbook, {**view.result.get("inputs", {}), **request.inputs})
    _check_starter(runbook, request, "rerun")
    journal = _open_journal(catalog, runbook, request, trigger="rerun", kind=RunKind(view.kind))
    journal.merge_result(
        {"runbook": runbook.name, "version": runbook.version, "inputs": inputs}
        | {"rerun_of": run_id, "from_step": from_step, STARTED_BY: request.started_by}
        | {"partial": from_step != runbook.steps[0].id}
    )
    source = Replay(kept, source_run=run_id)
    return _drive(journal, runbook, settings, inputs, source, request, observer)


def cancel(catalog: Catalog, run_id: int, actor: str) -> str:
    """Ask a running run to stop; a run whose process is gone is marked cancelled at once."""
    view = _runbook_run(catalog, run_id)
    if view.status is not RunStatus.RUNNING:
        raise RunNotResumable(
            f"run {run_id} is not running (it is {view.status.value})",
            hint=f"`drkit runs show {run_id}` shows how it ended",
        )
    if _process_gone(catalog, view):
        journal = RunbookJournal(RunJournal(catalog, run_id))
        journal.interrupt_open_steps()
        journal.finish(RunStatus.CANCELLED, error=f"cancelled by {actor}", result={})
        return f"run {run_id} was not running any more; marked cancelled"
    requests.send(catalog, run_id, requests.RequestKind.CANCEL, actor=actor)
    return f"asked run {run_id} to stop; the current step is interrupted"


def _check_starter(runbook: Runbook, request: RunRequest, trigger: str) -> None:
    """A runbook whose approver must not be the starter cannot start anonymously by hand."""
    if request.started_by is not None or trigger not in MANUAL_TRIGGERS:
        return
    if request.existing_run_id is None and needs_signed_in_starter(runbook):
        raise UsageError(
            f"runbook {runbook.name!r} has a step that its starter may not approve "
            "(not_by_starter), so whoever starts it signs in",
            hint="set DRKIT_TOKEN or pass --token-file FILE, or run it on a terminal "
            "to sign in with a password (--user NAME)",
        )


def _open_journal(
    catalog: Catalog,
    runbook: Runbook,
    request: RunRequest,
    *,
    trigger: str,
    kind: RunKind | None = None,
) -> RunbookJournal:
    if request.existing_run_id is not None:
        _adopt(catalog, request.existing_run_id, runbook)
        return RunbookJournal(RunJournal(catalog, request.existing_run_id))
    journal = RunJournal.start(
        catalog,
        kind=(kind or request.kind).value,
        subject=runbook.name,
        trigger=trigger,
        subject_version=runbook.version,
    )
    return RunbookJournal(journal)


def _adopt(catalog: Catalog, run_id: int, runbook: Runbook) -> None:
    """A run the daemon started: name the runbook and version it runs if the daemon did not."""
    with catalog.session() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            raise UsageError(f"DRKIT_RUN_ID={run_id}: there is no such run")
        row.subject = row.subject or runbook.name
        row.subject_version = row.subject_version or runbook.version


def _drive(
    journal: RunbookJournal,
    runbook: Runbook,
    settings: Settings,
    inputs: Mapping[str, str],
    source: Replay,
    request: RunRequest,
    observer: Observer | None,
) -> RunReport:
    control = RunControl(journal, settings, poll_s=request.poll_s, prompt=request.prompt)
    variables = Variables.for_run(inputs, journal.run_id)
    owner = request.existing_run_id is None
    runner = Runner(runbook, control, variables, replay=source, observer=observer)
    try:
        outcome = runner.run()
    except BaseException as exc:  # Ctrl-C, SIGTERM, a bug: the journal says so
        control.cancel_event.set()  # actions still going stop (and kill their children)
        journal.interrupt_open_steps()
        if owner:
            error = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            status = (
                RunStatus.INTERRUPTED if not isinstance(exc, RunbookError) else RunStatus.FAILED
            )
            journal.finish(status, error=error, result={})
        raise
    return _report(journal, runbook, request, outcome, owner)


def _report(
    journal: RunbookJournal,
    runbook: Runbook,
    request: RunRequest,
    outcome: RunOutcome,
    owner: bool,
) -> RunReport:
    rto_s = runbook.rto.total_seconds() if runbook.rto else None
    summary = {
        "failed_step": outcome.failed_step,
        "rolled_back": outcome.ending is Ending.ROLLED_BACK,
        "rollback_failed": list(outcome.rollback_failed),
        "rto_s": rto_s,
    }
    if owner:
        journal.finish(outcome.status, error=outcome.error, result=summary)
    view = get_run(journal.catalog, journal.run_id)
    recovery = view.duration_s if owner else (utcnow() - view.started_at).total_seconds()
    return RunReport(
        run_id=journal.run_id,
        runbook=runbook.name,
        version=runbook.version,
        kind=view.kind,
        status=outcome.status,
        error=outcome.error,
        failed_step=outcome.failed_step,
        rolled_back=outcome.ending is Ending.ROLLED_BACK,
        recovery_s=recovery,
        rto_s=rto_s,
    )


def _runbook_run(catalog: Catalog, run_id: int) -> RunView:
    view = get_run(catalog, run_id)
    if view.kind not in KINDS:
        raise UsageError(
            f"run {run_id} is a {view.kind} run, not a runbook run",
            hint="`drkit runs --kind runbook` lists runbook runs",
        )
    return view


def _process_gone(catalog: Catalog, view: RunView) -> bool:
    """True when the run's process is known to be dead (on this host: its pid is gone)."""
    if view.host != socket.gethostname():
        return False
    with catalog.session() as session:
        pid = session.get_one(RunRow, view.id).pid
    if pid is None or pid == os.getpid():
        return pid is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _refuse_live(catalog: Catalog, view: RunView) -> None:
    """A run still going in a live process must not be resumed twice."""
    if view.status is RunStatus.RUNNING and not _process_gone(catalog, view):
        raise RunNotResumable(
            f"run {view.id} is still running (on {view.host})",
            hint=f"cancel it first with `drkit runbook cancel {view.id}`, or wait for it",
        )
