"""Restore-test steps into a catalog run, as they happen, and their RTO evidence.

A drill (:mod:`drkit.services.drill`) is a run like any other: its steps land
in the catalog's journal while it goes, and the measured recovery time of
each source in each repository is recorded as a verification (with its
source) the monitor reads for the RTO.
"""

from __future__ import annotations

from datetime import UTC, datetime

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, StepStatus
from drkit.catalog.tables import VerificationRow
from drkit.verify.drill import DrillEntry
from drkit.verify.restore_test import RestoreTestResult
from drkit.verify.steps import StepHooks, StepResult, StepStart


def journal_hooks(journal: RunJournal, prefix: str, also: StepHooks) -> StepHooks:
    """Hooks writing each step to ``journal`` (named ``prefix: step``), then calling ``also``."""
    open_steps: dict[str, int] = {}

    def on_start(step: StepStart) -> None:
        open_steps[step.name] = journal.begin_step(f"{prefix}: {step.name}")
        if also.on_step_start is not None:
            also.on_step_start(step)

    def on_end(step: StepResult) -> None:
        step_id = open_steps.pop(step.name, None)
        if step_id is not None:
            status = StepStatus.SUCCEEDED if step.ok else StepStatus.FAILED
            journal.end_step(
                step_id,
                status,
                output=step.output_tail,
                error=step.error or None,
                details={"detail": step.detail, "duration_s": step.duration_s},
            )
        if also.on_step_end is not None:
            also.on_step_end(step)

    return StepHooks(on_step_start=on_start, on_step_end=on_end)


def record_restore_evidence(
    catalog: Catalog, repository: str, policy: str, result: RestoreTestResult, *, kind: str
) -> None:
    """The measured recovery time of each source the tested snapshot holds, for the monitor's
    RTO rule and /metrics: evidence about one source says nothing of the policy's others."""
    summary = (
        ""
        if result.passed
        else (result.failed_step.error if result.failed_step else "restore test failed")
    )
    with catalog.session() as session:
        for source in result.sources or ("",):
            session.add(
                VerificationRow(
                    repository=repository,
                    subject=policy,
                    kind=kind,
                    ok=result.passed,
                    started_at=result.started_at,
                    duration_s=result.rto_s,
                    snapshot_id=result.snapshot_id,
                    summary=summary,
                    source=source,
                )
            )


def record_drill_evidence(catalog: Catalog, policy: str, entry: DrillEntry) -> None:
    """A drill entry: its restore test, or a failure of each source it could not test
    (no snapshot of it, the repository unreachable): a drill that could not restore a
    source is a failed drill of that source."""
    if entry.result is not None:
        record_restore_evidence(catalog, entry.repository, policy, entry.result, kind="drill")
        return
    with catalog.session() as session:
        for source in entry.sources or ("",):
            session.add(
                VerificationRow(
                    repository=entry.repository,
                    subject=policy,
                    kind="drill",
                    ok=False,
                    started_at=datetime.now(UTC),
                    duration_s=0.0,
                    summary=entry.error or "the drill could not run",
                    source=source,
                )
            )
