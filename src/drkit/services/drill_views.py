"""Drills and restore tests as recovery times against the RTO: what ``GET /api/drills``
returns and the dashboard's drills page charts.

First each drilled runbook (a drill in drkit.yaml's ``runbooks.drills`` or drill
runs in the catalog) with ``drkit runbook stats NAME --drills``'s figures
(:func:`drkit.runbooks.stats.collect`), its RTO the runbook file's, else the one
its newest run recorded; then the restore tests and backup drills of each source
from each repository (:func:`drkit.verify.history.recovery_times`) against its
policy's RTO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import list_runs
from drkit.errors import DrkitError
from drkit.runbooks.drills import DRILL_KIND, DrillJob, drill_jobs
from drkit.runbooks.stats import RunbookStats, Trend, collect, trend
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.services.workspace import Workspace
from drkit.verify.history import RecoveryTime, recovery_times


@dataclass(frozen=True)
class DrilledRunbook:
    name: str
    jobs: list[DrillJob]
    stats: RunbookStats
    rto_s: float | None
    problem: str | None  # the runbook file could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "runbook": self.name,
            "jobs": [{"id": j.id, "schedule": j.schedule} for j in self.jobs],
            "rto_s": self.rto_s,
            "problem": self.problem,
            "stats": self.stats.as_json(),
        }


@dataclass(frozen=True)
class RestoreSeries:
    """The restore tests and backup drills of one source from one repository."""

    policy: str
    repository: str
    source: str
    rto_s: float | None
    times: list[RecoveryTime]  # newest first

    @property
    def trend(self) -> Trend:
        return trend([t.duration_s for t in reversed(self.times) if t.ok])

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "repository": self.repository,
            "source": self.source,
            "rto_s": self.rto_s,
            "trend": self.trend.value,
            "times": [_time_json(t, self.rto_s) for t in self.times],
        }


@dataclass(frozen=True)
class DrillsOverview:
    runbooks: list[DrilledRunbook]
    restores: list[RestoreSeries]

    def to_json(self) -> dict[str, Any]:
        return {
            "runbooks": [r.to_json() for r in self.runbooks],
            "restores": [r.to_json() for r in self.restores],
        }


def drills_overview(ws: Workspace, last: int) -> DrillsOverview:
    """The last ``last`` drills of every drilled runbook, and of every source's restores."""
    jobs = drill_jobs(ws.settings)
    names = sorted({j.runbook for j in jobs} | drilled_names(ws.catalog()))
    shown = [drilled(ws, name, [j for j in jobs if j.runbook == name], last) for name in names]
    return DrillsOverview(shown, restore_series(ws, recovery_times(ws.catalog()), last))


def restore_series(ws: Workspace, times: list[RecoveryTime], last: int) -> list[RestoreSeries]:
    """``times`` (oldest first) per policy, repository and source, the last ``last`` of each."""
    groups: dict[tuple[str, str, str], list[RecoveryTime]] = {}
    for t in times:
        groups.setdefault((t.policy, t.repository, t.source), []).append(t)
    found = []
    for (policy, repository, source), recent in sorted(groups.items()):
        settings = ws.settings.policies.get(policy)
        rto_s = settings.rto.total_seconds() if settings is not None and settings.rto else None
        found.append(RestoreSeries(policy, repository, source, rto_s, recent[-last:][::-1]))
    return found


def drilled_names(catalog: Catalog, limit: int = 1000) -> set[str]:
    """The runbooks with drill runs among the newest ``limit``."""
    return {v.subject for v in list_runs(catalog, kind=DRILL_KIND, limit=limit) if v.subject}


def drilled(ws: Workspace, name: str, jobs: list[DrillJob], last: int) -> DrilledRunbook:
    """One runbook's drills: the stats, against the file's RTO (else its newest run's)."""
    rto_s, problem = None, None
    try:
        book = RunbookStore(runbook_dir(ws.settings, ws.settings_file, ws.home)).load(name)
        rto_s = book.runbook.rto.total_seconds() if book.runbook.rto else None
    except DrkitError as exc:
        problem = exc.message.splitlines()[0]
    stats = collect(ws.catalog(), name, last=last, kinds=(DRILL_KIND,), rto_s=rto_s)
    if rto_s is None and stats.runs:
        rto_s = stats.runs[0].rto_s
    return DrilledRunbook(name, jobs, stats, rto_s, problem)


def _time_json(t: RecoveryTime, rto_s: float | None) -> dict[str, Any]:
    return {
        "run_id": t.run_id,
        "kind": t.kind,
        "ok": t.ok,
        "started_at": t.started_at.isoformat(),
        "duration_s": round(t.duration_s, 3),
        "rto_met": None if rto_s is None else t.ok and t.duration_s <= rto_s,
        "summary": t.summary,
    }
