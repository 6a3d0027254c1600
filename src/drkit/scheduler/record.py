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
from drkit.scheduler.jobs import EVIDENCE, Evidence, Job, JobKind

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
        keys = EVIDENCE[job.kind]
        ok = result.status is StepStatus.SUCCEEDED
        duration = _number(doc, keys.duration) or result.duration_s
        with self.catalog.session() as session:
            for source in _sources(result, _strings(doc, keys.sources)):
                session.add(
                    VerificationRow(
                        repository=job.repository or "",
                        subject=job.subject,
                        kind=VERIFYING[job.kind],
                        ok=ok,
                        started_at=result.started,
                        duration_s=duration,
                        snapshot_id=_text(doc, keys.snapshot),
                        summary=_summary(
                            ok, result.error, _packs(doc, keys.packs), _recovery(doc, keys)
                        ),
                        source=source,
                    )
                )


def _sources(result: StepResult, held: list[str]) -> list[str]:
    """What a restore test proved: the sources its snapshot held, else those it was to
    prove (a failure before a snapshot was chosen); a check proves the repository ("")."""
    return held or list(result.step.sources) or [""]


def _recovery(doc: dict[str, Any], keys: Evidence) -> list[str]:
    point = doc.get(keys.recovery) if keys.recovery else None
    return recovery_lines({"recovery_point": point}) if isinstance(point, dict) else []


def _summary(ok: bool, error: str | None, packs: list[dict[str, Any]], recovery: list[str]) -> str:
    """The error, the packs a read covered (the evidence that resolves or keeps damage),
    and an archive check's recovery point (monitor/recovery.py reads it back)."""
    read = packs_line(READ_LINE, (str(r["pack"]) for r in packs if r.get("status") == "ok"))
    damaged = packs_line(DAMAGED_LINE, (str(r["pack"]) for r in packs if r.get("status") != "ok"))
    lines = [] if ok else [error or ""]
    return "\n".join(line for line in (*lines, damaged, read, *recovery) if line)


def _number(doc: dict[str, Any], key: str | None) -> float:
    value = doc.get(key) if key else None
    return float(value) if isinstance(value, int | float) else 0.0


def _text(doc: dict[str, Any], key: str | None) -> str | None:
    value = doc.get(key) if key else None
    return str(value) if value else None


def _strings(doc: dict[str, Any], key: str | None) -> list[str]:
    value = doc.get(key) if key else None
    return [str(v) for v in value if v] if isinstance(value, list) else []


def _packs(doc: dict[str, Any], key: str | None) -> list[dict[str, Any]]:
    value = doc.get(key) if key else None
    items = value if isinstance(value, list) else []
    return [r for r in items if isinstance(r, dict) and "pack" in r]
