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

from drkit.runbooks.expected import DEFAULT_LAST
from drkit.services import drill_views
from drkit.services.drill_views import drills_overview
from drkit.verify.history import RecoveryTime
from drkit.web.chart import Point, rto_chart
from drkit.web.render import Viewer, Ws, page

MAX_LAST = 100


@dataclass(frozen=True)
class Charted:
    """A drilled runbook or a source's restore series, with its chart (the <svg>, escaped
    where it holds text)."""

    data: drill_views.DrilledRunbook | drill_views.RestoreSeries
    chart: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.data, name)


def install(app: FastAPI) -> None:
    app.get("/drills", include_in_schema=False)(drills)


def drills(request: Request, ws: Ws, who: Viewer, last: int = DEFAULT_LAST) -> Response:
    last = max(1, min(last, MAX_LAST))
    overview = drills_overview(ws, last)
    shown = [_runbook_chart(d) for d in overview.runbooks]
    restores = [_restore_chart(i, r) for i, r in enumerate(overview.restores)]
    return page(request, "drills.html", who, runbooks=shown, restores=restores, last=last)


def _restore_chart(index: int, series: drill_views.RestoreSeries) -> Charted:
    recent = series.times[::-1]
    title = (
        f"Recovery time of {series.policy}: {series.source or 'all sources'} "
        f"from {series.repository}"
    )
    chart = rto_chart(
        [_point(t, series.rto_s) for t in recent],
        series.rto_s,
        title=title,
        trend=series.trend.value,
        ident=f"restore-{index}",
    )
    return Charted(series, chart)


def _point(t: RecoveryTime, rto_s: float | None) -> Point:
    met = None if rto_s is None else t.ok and t.duration_s <= rto_s
    label = f"#{t.run_id}" if t.run_id is not None else t.kind
    return Point(label, t.started_at, t.duration_s, t.ok, met)


def _runbook_chart(d: drill_views.DrilledRunbook) -> Charted:
    points = [
        Point(f"#{r.run_id}", r.started_at, r.total_s, r.counted, r.rto_met)
        for r in reversed(d.stats.runs)
    ]
    title = f"Recovery time of {d.name}"
    chart = rto_chart(points, d.rto_s, title=title, trend=d.stats.trend.value,
                      ident=f"runbook-{d.name}")  # fmt: skip
    return Charted(d, chart)
