"""Turning finished job steps into catalog facts: verification results, fresh snapshot lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import StepStatus
from drkit.catalog.tables import VerificationRow
from drkit.errors import RepositoryLocked
from drkit.monitor.evidence import DAMAGED_LINE, READ_LINE, packs_line
from drkit.monitor.recovery import recovery_lines
from drkit.scheduler.executor import StepResult
from drkit.scheduler.jobs import Job, JobKind

VERIFYING = {
    JobKind.CHECK: "check",
    JobKind.READ_DATA: "read-data",
    JobKind.READ_SUBSET: "read-subset",
    JobKind.RESTORE_TEST: "restore-test",
    JobKind.ARCHIVE_CHECK: "archive-check",  # with the physical source's recovery point
}
CHANGING = (JobKind.BACKUP, JobKind.COPY, JobKind.RETENTION)


@dataclass
class StepRecorder:
    """The executor's ``on_step`` hook: records what a step proved or changed."""

    catalog: Catalog
    rescan: Callable[[list[str]], None]
    repositories_of: Callable[[Job], list[str]]

    def __call__(self, job: Job, result: StepResult) -> None:
        if (
            job.kind in VERIFYING
            and result.status in (StepStatus.SUCCEEDED, StepStatus.FAILED)
            and result.exit_code != RepositoryLocked.exit_code  # a lock proves nothing
        ):
            self._verification(job, result)
        if job.kind in CHANGING:
            self.rescan(self.repositories_of(job))

    def _verification(self, job: Job, result: StepResult) -> None:
        doc = result.document if isinstance(result.document, dict) else {}
        ok = result.status is StepStatus.SUCCEEDED
        duration = _duration(doc) or result.duration_s
        with self.catalog.session() as session:
            for source in _sources(job, result, doc):
                session.add(
                    VerificationRow(
                        repository=job.repository or str(doc.get("repository", "")),
                        subject=job.subject,
                        kind=VERIFYING[job.kind],
                        ok=ok,
                        started_at=result.started,
                        duration_s=duration,
                        snapshot_id=_snapshot(doc),
                        summary=_summary(ok, result.error, doc),
                        source=source,
                    )
                )


def _sources(job: Job, result: StepResult, doc: dict[str, Any]) -> list[str]:
    """What a restore test proved: the sources its snapshot held, else those it was to
    prove (a failure before a snapshot was chosen); a check proves the repository ("")."""
    if job.kind is JobKind.ARCHIVE_CHECK:
        return list(result.step.sources) or [""]
    if job.kind is not JobKind.RESTORE_TEST:
        return [""]
    held = (
        [str(p) for p in doc.get("sources", []) if p]
        if isinstance(doc.get("sources"), list)
        else []
    )
    return held or list(result.step.sources) or [""]


def _summary(ok: bool, error: str | None, doc: dict[str, Any]) -> str:
    """The error, and the packs a read covered (the evidence that resolves or keeps damage)."""
    results = [r for r in doc.get("results", []) if isinstance(r, dict) and "pack" in r]
    read = packs_line(READ_LINE, (str(r["pack"]) for r in results if r.get("status") == "ok"))
    damaged = packs_line(DAMAGED_LINE, (str(r["pack"]) for r in results if r.get("status") != "ok"))
    lines = [] if ok else [error or ""]
    recovery = recovery_lines(doc)
    return "\n".join(line for line in (*lines, damaged, read, *recovery) if line)


def _duration(doc: dict[str, Any]) -> float:
    for key in ("rto_s", "duration_s"):  # restore tests: the measured recovery time
        value = doc.get(key)
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def _snapshot(doc: dict[str, Any]) -> str | None:
    value = doc.get("snapshot") or doc.get("snapshot_id")
    return str(value) if value else None
