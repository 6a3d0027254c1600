"""Runbooks: the list, one runbook as it is now or in a recorded version, and its guide.

Pages only read: the runbook files in ``runbooks.dir`` and the versions in
the catalog (a GET records nothing; the CLI and the runs record versions).
The guide is :mod:`drkit.runbooks.guide`'s Markdown with ``runbook stats``'s
expected durations, rendered with raw HTML turned off, so a runbook's text
cannot put markup into the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response
from markdown_it import MarkdownIt

from drkit.catalog.runs import RunView, list_runs
from drkit.errors import DrkitError
from drkit.runbooks import guide, versions
from drkit.runbooks.loader import LoadedRunbook
from drkit.runbooks.stats import collect
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.services.workspace import Workspace
from drkit.web.render import Viewer, Ws, error_status, page

MAX_VERSION = 64


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
    expected = collect(ws.catalog(), name).expected()
    body = guide_html(guide.markdown(loaded.runbook, expected))
    return page(request, "guide.html", who, name=name, loaded=loaded, body=body, version=version)


def guide_html(text: str) -> str:
    """The guide's Markdown as HTML, raw HTML in it escaped (not passed through)."""
    rendered: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return rendered


def _store(ws: Workspace) -> RunbookStore:
    return RunbookStore(runbook_dir(ws.settings, ws.settings_file, ws.home))


def _load(ws: Workspace, name: str, version: str | None) -> LoadedRunbook:
    if version:
        return versions.load_version(ws.catalog(), name, version[:MAX_VERSION])
    return _store(ws).load(name)


def _row(ws: Workspace, store: RunbookStore, name: str) -> RunbookRow:
    last = list_runs(ws.catalog(), subject=name, limit=1)
    try:
        return RunbookRow(name, store.load(name), None, last[0] if last else None)
    except DrkitError as exc:
        return RunbookRow(name, None, exc.message.splitlines()[0], last[0] if last else None)
