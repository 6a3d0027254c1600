"""Drills: recovery times against the RTO, as charts with tables of the same numbers.

First each drilled runbook's drills; then the restore tests and backup drills
(``drkit drill backup``) of each source, per repository, against its policy's
RTO (:func:`drkit.verify.history.recovery_times`).

The runbooks shown are those with a drill in drkit.yaml (``runbooks.drills``)
and those with drill runs in the catalog. The figures are ``drkit runbook
stats NAME --drills``'s own (:func:`drkit.runbooks.stats.collect`); the RTO
is the runbook file's, else the one its newest run recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response

from drkit.catalog import Catalog
from drkit.catalog.runs import list_runs
from drkit.errors import DrkitError
from drkit.runbooks.drills import DRILL_KIND, DrillJob, drill_jobs
from drkit.runbooks.expected import DEFAULT_LAST
from drkit.runbooks.stats import RunbookStats, collect, trend
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.services.workspace import Workspace
from drkit.verify.history import RecoveryTime, recovery_times
from drkit.web.chart import Point, rto_chart
from drkit.web.render import Viewer, Ws, page

MAX_LAST = 100


@dataclass(frozen=True)
class DrilledRunbook:
    name: str
    jobs: list[DrillJob]
    stats: RunbookStats
    rto_s: float | None
    chart: str  # the <svg>, escaped where it holds text
    problem: str | None  # the runbook file could not be read


@dataclass(frozen=True)
class RestoreSeries:
    """The restore tests and backup drills of one source from one repository."""

    policy: str
    repository: str
    source: str
    rto_s: float | None
    times: list[RecoveryTime]  # newest first
    chart: str


def install(app: FastAPI) -> None:
    app.get("/drills", include_in_schema=False)(drills)


def drills(request: Request, ws: Ws, who: Viewer, last: int = DEFAULT_LAST) -> Response:
    last = max(1, min(last, MAX_LAST))
    jobs = drill_jobs(ws.settings)
    names = sorted({j.runbook for j in jobs} | drilled_names(ws.catalog()))
    shown = [_drilled(ws, name, [j for j in jobs if j.runbook == name], last) for name in names]
    restores = restore_series(ws, recovery_times(ws.catalog()), last)
    return page(request, "drills.html", who, runbooks=shown, restores=restores, last=last)


def restore_series(ws: Workspace, times: list[RecoveryTime], last: int) -> list[RestoreSeries]:
    """``times`` (oldest first) per policy, repository and source, the last ``last`` of each."""
    groups: dict[tuple[str, str, str], list[RecoveryTime]] = {}
    for t in times:
        groups.setdefault((t.policy, t.repository, t.source), []).append(t)
    return [
        _series(ws, i, key, found[-last:]) for i, (key, found) in enumerate(sorted(groups.items()))
    ]


def _series(
    ws: Workspace, index: int, key: tuple[str, str, str], recent: list[RecoveryTime]
) -> RestoreSeries:
    policy, repository, source = key
    settings = ws.settings.policies.get(policy)
    rto_s = settings.rto.total_seconds() if settings is not None and settings.rto else None
    title = f"Recovery time of {policy}: {source or 'all sources'} from {repository}"
    chart = rto_chart(
        [_point(t, rto_s) for t in recent],
        rto_s,
        title=title,
        trend=trend([t.duration_s for t in recent if t.ok]).value,
        ident=f"restore-{index}",
    )
    return RestoreSeries(policy, repository, source, rto_s, recent[::-1], chart)


def _point(t: RecoveryTime, rto_s: float | None) -> Point:
    met = None if rto_s is None else t.ok and t.duration_s <= rto_s
    label = f"#{t.run_id}" if t.run_id is not None else t.kind
    return Point(label, t.started_at, t.duration_s, t.ok, met)


def drilled_names(catalog: Catalog, limit: int = 1000) -> set[str]:
    """The runbooks with drill runs among the newest ``limit``."""
    return {v.subject for v in list_runs(catalog, kind=DRILL_KIND, limit=limit) if v.subject}


def _drilled(ws: Workspace, name: str, jobs: list[DrillJob], last: int) -> DrilledRunbook:
    rto_s, problem = None, None
    try:
        book = RunbookStore(runbook_dir(ws.settings, ws.settings_file, ws.home)).load(name)
        rto_s = book.runbook.rto.total_seconds() if book.runbook.rto else None
    except DrkitError as exc:
        problem = exc.message.splitlines()[0]
    stats = collect(ws.catalog(), name, last=last, kinds=(DRILL_KIND,), rto_s=rto_s)
    if rto_s is None and stats.runs:
        rto_s = stats.runs[0].rto_s
    points = [
        Point(f"#{r.run_id}", r.started_at, r.total_s, r.counted, r.rto_met)
        for r in reversed(stats.runs)
    ]
    title = f"Recovery time of {name}"
    chart = rto_chart(points, rto_s, title=title, trend=stats.trend.value, ident=f"runbook-{name}")
    return DrilledRunbook(name, jobs, stats, rto_s, chart, problem)
