"""Backup drills as an operation: ``drkit drill backup --policy NAME`` for every face.

:func:`drill` restores each source's newest snapshot from each repository of
a policy (:func:`drkit.verify.drill.run_drill`), writes each step into the
catalog's run journal as it happens (the daemon's run when ``DRKIT_RUN_ID``
names one, else a run of its own that it finishes), records the RTO
evidence of every entry, and returns the :class:`DrillReport`: its
``to_json()`` is ``--json``, the run's result in the journal, and the API's
answer. :func:`drill_failure` is the error a face raises for a report that
did not pass (32 failed, 33 slower than the RTO).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from drkit.services.progress import SILENT, Counter, Progress
from drkit.services.restore_test import RestoreOptions, spec_for, step_hooks
from drkit.verify.drill import DrillReport, DrillVerdict
from drkit.verify.errors import RestoreTestFailed, RtoMissed
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks

if TYPE_CHECKING:
    from drkit.catalog import Catalog
    from drkit.catalog.runs import RunJournal
    from drkit.errors import DrkitError
    from drkit.services.workspace import Workspace

_NO_HOOKS = StepHooks()


@dataclass(frozen=True)
class DrillRequest:
    """Drill ``policy``: all its repositories or one, its newest snapshots or one by id."""

    policy: str
    repository: str | None = None
    snapshot: str | None = None
    options: RestoreOptions = field(default_factory=RestoreOptions)


def drill(
    workspace: Workspace,
    request: DrillRequest,
    *,
    progress: Progress = SILENT,
    journal: RunJournal | None = None,
) -> DrillReport:
    """Run the drill, journaled step by step, its evidence recorded; the report.

    ``journal`` is the caller's run to write the steps into (the API's launcher),
    which the caller finishes. A drill that did not pass finishes its own run as
    failed (with :func:`drill_failure`'s message); the report is returned all the same.
    """
    from drkit.catalog.runs import RunStatus
    from drkit.settings.verification import verification_of
    from drkit.verify.drill import run_drill
    from drkit.verify.journaling import journal_hooks, record_drill_evidence

    chosen = workspace.policy(request.policy)
    defaults = verification_of(chosen).restore_test
    spec = spec_for(workspace, defaults, request.options, SnapshotChoice())
    spec = replace(spec, sources=tuple(chosen.sources))  # database dumps: their checks
    catalog = workspace.catalog()
    journal, owned = (journal, False) if journal is not None else _journal(catalog, request.policy)
    try:
        report = run_drill(
            request.policy,
            chosen,
            workspace.open_named,
            spec,
            repository=request.repository,
            snapshot=request.snapshot,
            hooks_for=lambda name: step_hooks(progress, journal_hooks(journal, name, _NO_HOOKS)),
            progress=Counter(progress),
        )
        for entry in report.entries:
            record_drill_evidence(catalog, request.policy, entry)
    except BaseException as exc:
        if owned:
            interrupted = isinstance(exc, KeyboardInterrupt)
            status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
            journal.finish(status, error=getattr(exc, "message", str(exc)))
        raise
    if owned:
        failure = drill_failure(report)
        status = RunStatus.SUCCEEDED if failure is None else RunStatus.FAILED
        error = failure.message if failure is not None else None
        journal.finish(status, error=error, result=report.to_json())
    return report


def _journal(catalog: Catalog, policy: str) -> tuple[RunJournal, bool]:
    """This process's run: the daemon's (``DRKIT_RUN_ID``), or a new one (owned: we finish it)."""
    from drkit.catalog.runs import RunJournal

    attached = os.environ.get("DRKIT_RUN_ID", "")
    if attached.isdigit():
        return RunJournal(catalog, int(attached)), False
    return RunJournal.start(catalog, kind="drill", subject=policy, trigger="manual"), True


def drill_failure(report: DrillReport) -> DrkitError | None:
    """The error for a drill that did not pass (32 failed, 33 RTO missed); None if it passed."""
    from drkit.policy.objectives import format_objective

    if report.verdict is DrillVerdict.FAILED:
        failed = [
            f"{e.repository} {e.source}".strip()
            for e in report.entries
            if e.verdict is DrillVerdict.FAILED
        ]
        return RestoreTestFailed(
            f"the drill of policy {report.policy} failed in: {', '.join(failed)}"
        )
    if report.verdict is DrillVerdict.RTO_MISSED:
        objective = format_objective(report.objective) if report.objective else "not set"
        return RtoMissed(
            f"the drill of policy {report.policy} took {seconds(report.measured_rto_s or 0)}; "
            f"the RTO objective is {objective}"
        )
    return None


def seconds(value: float) -> str:
    """A duration as people read it: 1.234 s, 12.3 s, 5m."""
    from datetime import timedelta

    from drkit.policy.objectives import format_objective

    if value < 10:
        return f"{value:.3f} s"
    if value < 60:
        return f"{value:.1f} s"
    return format_objective(timedelta(seconds=round(value)))
