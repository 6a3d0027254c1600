"""Drills: recovery times against the RTO, as charts with tables of the same numbers.

First each drilled runbook's drills; then the restore tests and backup drills
(``drkit drill backup``) of each source, per repository, against its policy's
RTO (:func:`drkit.verify.history.recovery_times`).

The runbooks shown are those with a drill in drkit.yaml (``runbooks.drills``)
and those with drill runs in the catalog; the figures are
:mod:`drkit.services.drill_views`'s (``GET /api/drills``), charted here.

Buttons start a restore test of each source of a policy, a backup drill of a
policy, or a drill of a runbook now (the API's operations, as the signed-in
user, each with the session's CSRF token and its permission); the answer is the
run's page, or this page saying why the start was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from drkit.api.auth import Principal
from drkit.api.launching import launcher
from drkit.errors import DrkitError
from drkit.policy.restore_targets import RestoreTarget, restore_targets
from drkit.runbooks.expected import DEFAULT_LAST
from drkit.services import drill_views, runbook_launch
from drkit.services import restore_launch as plan
from drkit.services.drill_views import drills_overview
from drkit.services.workspace import Workspace
from drkit.users.model import Permission
from drkit.verify.history import RecoveryTime
from drkit.web.chart import Point, rto_chart
from drkit.web.pages import PageRequire
from drkit.web.render import Viewer, Ws, check_csrf, error_status, page

MAX_LAST = 100
Tester = Annotated[Principal, Depends(PageRequire(Permission.BACKUP))]
Driller = Annotated[Principal, Depends(PageRequire(Permission.RUNBOOKS))]


@dataclass(frozen=True)
class Startable:
    """A policy the page offers to prove now: a restore test of each source, a drill."""

    name: str
    targets: list[RestoreTarget]
    problem: str | None  # its sources cannot be named (a password file missing, ...)


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
    app.post("/drills/restore-test", include_in_schema=False)(start_restore_test)
    app.post("/drills/drill", include_in_schema=False)(start_drill)
    app.post("/drills/runbook", include_in_schema=False)(start_runbook_drill)


def drills(request: Request, ws: Ws, who: Viewer, last: int = DEFAULT_LAST) -> Response:
    return _drills_page(request, ws, who, last)


def _drills_page(
    request: Request,
    ws: Workspace,
    who: Principal,
    last: int = DEFAULT_LAST,
    problem: DrkitError | None = None,
) -> Response:
    last = max(1, min(last, MAX_LAST))
    overview = drills_overview(ws, last)
    shown = [_runbook_chart(d) for d in overview.runbooks]
    restores = [_restore_chart(i, r) for i, r in enumerate(overview.restores)]
    starts = [_startable(ws, name) for name in sorted(ws.settings.policies)]
    status = error_status(problem) if problem else 200
    return page(request, "drills.html", who, status, runbooks=shown, restores=restores,
                last=last, starts=starts, problem=problem)  # fmt: skip


async def start_restore_test(request: Request, ws: Ws, who: Tester) -> Response:
    """A restore test of one source of a policy, as the signed-in user; the run's page."""
    form = await _form(request)

    def planned() -> plan.Planned:
        return plan.plan_restore_test(ws, form["policy"], source=form["source"] or None)

    return await _start(request, ws, who, planned)


async def start_drill(request: Request, ws: Ws, who: Driller) -> Response:
    """A backup drill of a policy (each repository against its RTO); the run's page."""
    form = await _form(request)
    return await _start(request, ws, who, lambda: plan.plan_drill(ws, form["policy"]))


async def start_runbook_drill(request: Request, ws: Ws, who: Driller) -> Response:
    """A drill of a runbook now, with its drill's inputs from drkit.yaml; the run's page."""
    form = await _form(request)

    def start() -> int:
        planned = runbook_launch.plan_drill(ws, form["runbook"][:100], {}, user=who.user)
        return runbook_launch.launch(launcher(request), ws, who.actor, "runbook.drill", planned)

    return await _started(request, ws, who, start)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    return {key: str(form.get(key, ""))[:1000] for key in ("policy", "source", "runbook")}


async def _start(
    request: Request, ws: Workspace, who: Principal, planned: Callable[[], plan.Planned]
) -> Response:
    def start() -> int:
        return plan.launch(launcher(request), ws, who.actor, planned())

    return await _started(request, ws, who, start)


async def _started(
    request: Request, ws: Workspace, who: Principal, start: Callable[[], int]
) -> Response:

    try:
        run_id = await run_in_threadpool(start)
    except DrkitError as exc:  # refused before it ran: this page says why
        return await run_in_threadpool(_drills_page, request, ws, who, DEFAULT_LAST, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _startable(ws: Workspace, name: str) -> Startable:
    try:
        return Startable(name, restore_targets(ws.settings.policies[name]), None)
    except DrkitError as exc:
        return Startable(name, [], exc.message.splitlines()[0])


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
