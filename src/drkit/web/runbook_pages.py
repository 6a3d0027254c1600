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

from fastapi import FastAPI, Request
from fastapi.responses import Response

from drkit.catalog.runs import RunView, list_runs
from drkit.errors import DrkitError
from drkit.runbooks import versions
from drkit.runbooks.loader import LoadedRunbook
from drkit.runbooks.store import RunbookStore
from drkit.services.runbook_views import guide_html, guide_markdown
from drkit.services.runbook_views import load as _load
from drkit.services.runbook_views import runbook_store as _store
from drkit.services.workspace import Workspace
from drkit.web.render import Viewer, Ws, error_status, page


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


def runbooks(request: Request, ws: Ws, who: Viewer) -> Response:
    store = _store(ws)
    rows = [_row(ws, store, name) for name in store.names()]
    return page(request, "runbooks.html", who, runbooks=rows, directory=store.directory)


def runbook(
    request: Request, name: str, ws: Ws, who: Viewer, version: str | None = None
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
        name=name,
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
