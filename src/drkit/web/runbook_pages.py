"""Runbooks: the list, one runbook as it is now or in a recorded version, and its guide.

Pages only read: the runbook files in ``runbooks.dir`` and the versions in
the catalog (a GET records nothing; the CLI and the runs record versions).
The guide is :mod:`drkit.runbooks.guide`'s Markdown with ``runbook stats``'s
expected durations, rendered with raw HTML turned off (the API's guide is the
same HTML, :mod:`drkit.services.runbook_views`), so a runbook's text cannot
put markup into the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from drkit.api.auth import Principal
from drkit.api.launching import launcher
from drkit.catalog.runs import RunView, list_runs
from drkit.errors import DrkitError
from drkit.runbooks import versions
from drkit.runbooks.loader import LoadedRunbook
from drkit.runbooks.store import RunbookStore
from drkit.services import runbook_launch as launch
from drkit.services.runbook_views import guide_html, guide_markdown
from drkit.services.runbook_views import load as _load
from drkit.services.runbook_views import runbook_store as _store
from drkit.services.workspace import Workspace
from drkit.users.model import Permission
from drkit.web.pages import PageRequire
from drkit.web.render import Viewer, Ws, check_csrf, error_status, page

INPUT = "input."
Runner = Annotated[Principal, Depends(PageRequire(Permission.RUNBOOKS))]


@dataclass(frozen=True)
class RunbookRow:
    name: str
    loaded: LoadedRunbook | None
    error: str | None
    last: RunView | None


def install(app: FastAPI) -> None:
    app.get("/runbooks", include_in_schema=False)(runbooks)
    app.get("/runbooks/{name}", include_in_schema=False)(runbook)
    app.get("/runbooks/{name}/guide", include_in_schema=False)(runbook_guide)
    app.post("/runbooks/{name}/run", include_in_schema=False)(run_runbook)


async def run_runbook(request: Request, name: str, ws: Ws, who: Runner) -> Response:
    """The run form: the runbook file now with the inputs given, as the signed-in user,
    in serve's launcher; the answer is the run's page (bad inputs: this page, why)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    given = {
        key.removeprefix(INPUT): str(value)[:10000]
        for key, value in form.items()
        if key.startswith(INPUT) and str(value) != ""
    }
    try:
        run_id = await run_in_threadpool(_start, request, ws, who, name[:100], given)
    except DrkitError as exc:
        return await run_in_threadpool(_runbook_page, request, name[:100], ws, who, None, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _start(
    request: Request, ws: Workspace, who: Principal, name: str, given: dict[str, str]
) -> int:
    planned = launch.plan_start(ws, name, given, drill=False, user=who.user)
    return launch.launch(launcher(request), ws, who.actor, "runbook.run", planned)


def runbooks(request: Request, ws: Ws, who: Viewer) -> Response:
    store = _store(ws)
    rows = [_row(ws, store, name) for name in store.names()]
    return page(request, "runbooks.html", who, runbooks=rows, directory=store.directory)


def runbook(
    request: Request, name: str, ws: Ws, who: Viewer, version: str | None = None
) -> Response:
    return _runbook_page(request, name, ws, who, version)


def _runbook_page(
    request: Request,
    name: str,
    ws: Workspace,
    who: Principal,
    version: str | None,
    refused: DrkitError | None = None,
) -> Response:
    try:
        loaded = _load(ws, name, version)
        recorded = versions.history(ws.catalog(), name)
    except DrkitError as exc:
        return page(request, "runbook.html", who, error_status(exc), name=name, problem=exc)
    return page(
        request,
        "runbook.html",
        who,
        error_status(refused) if refused else 200,
        name=name,
        refused=refused,
        loaded=loaded,
        recorded=recorded,
        version=version,
        runs=list_runs(ws.catalog(), subject=name, limit=10),
    )


def runbook_guide(
    request: Request, name: str, ws: Ws, who: Viewer, version: str | None = None
) -> Response:
    try:
        loaded = _load(ws, name, version)
    except DrkitError as exc:
        return page(request, "guide.html", who, error_status(exc), name=name, problem=exc)
    body = guide_html(guide_markdown(ws, loaded))
    return page(request, "guide.html", who, name=name, loaded=loaded, body=body, version=version)


def _row(ws: Workspace, store: RunbookStore, name: str) -> RunbookRow:
    last = list_runs(ws.catalog(), subject=name, limit=1)
    try:
        return RunbookRow(name, store.load(name), None, last[0] if last else None)
    except DrkitError as exc:
        return RunbookRow(name, None, exc.message.splitlines()[0], last[0] if last else None)
