"""Drills: each drilled runbook's recovery times against its RTO, as a chart and a table.

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
from drkit.runbooks.stats import RunbookStats, collect
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.services.workspace import Workspace
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


def install(app: FastAPI) -> None:
    app.get("/drills", include_in_schema=False)(drills)


def drills(request: Request, ws: Ws, who: Viewer, last: int = DEFAULT_LAST) -> Response:
    last = max(1, min(last, MAX_LAST))
    jobs = drill_jobs(ws.settings)
    names = sorted({j.runbook for j in jobs} | drilled_names(ws.catalog()))
    shown = [_drilled(ws, name, [j for j in jobs if j.runbook == name], last) for name in names]
    return page(request, "drills.html", who, runbooks=shown, last=last)


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
        Point(r.run_id, r.started_at, r.total_s, r.counted, r.rto_met) for r in reversed(stats.runs)
    ]
    chart = rto_chart(points, rto_s, title=f"Recovery time of {name}", trend=stats.trend.value)
    return DrilledRunbook(name, jobs, stats, rto_s, chart, problem)
