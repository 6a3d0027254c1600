"""Configuration history: log, show and diff (`drkit config log|show|diff --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from drkit.api.auth import VIEW, Principal, workspace
from drkit.confighistory import compare, views
from drkit.confighistory import html as render
from drkit.confighistory.compare import Side
from drkit.confighistory.model import Scope
from drkit.confighistory.service import History
from drkit.errors import UsageError
from drkit.services.workspace import Workspace

router = APIRouter(tags=["configuration history"])
Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(VIEW)]
PathQuery = Annotated[str | None, Query(max_length=1000, description="drkit, /path, HOST:/path")]
Ref = Annotated[str, Query(min_length=1, max_length=200, description="id, time or phrase")]


def _history(ws: Workspace) -> History:
    return History(ws.catalog(), ws.settings, ws.settings_file, ws.home)


def _scope(history: History, path: str | None) -> Scope | None:
    if path is None:
        return None
    scopes = history.select([path])
    if len(scopes) > 1:
        raise UsageError(
            f"{path!r} names {len(scopes)} files",
            hint="name one: " + ", ".join(s.display for s in scopes[:5]),
        )
    return scopes[0]


@router.get(response_model=None, path="/config/log", summary="versions, newest first")
def log(
    ws: Ws,
    who: Viewer,
    path: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    from drkit.confighistory import views

    history = _history(ws)
    scopes = history.select(path) if path else None
    return [views.version_doc(v) for v in history.store.history(scopes, limit=limit)]


@router.get(
    response_model=None, path="/config/show", summary="a version's content, secrets redacted"
)
def show(ws: Ws, who: Viewer, version: Ref, path: PathQuery = None) -> dict[str, Any]:
    history = _history(ws)
    found = history.resolve(version, _scope(history, path))
    side = history.side(found)
    lines = compare.shown_lines(found.scope, side.rules, side.content or b"")
    return {"version": views.version_doc(found), "binary": lines is None, "lines": lines}


def _sides(ws: Workspace, old: str, new: str, path: str | None) -> tuple[Side, Side, str]:
    history = _history(ws)
    scope = _scope(history, path)
    a = history.resolve(old, scope)
    b = history.resolve(new, scope or a.scope)
    return history.side(a), history.side(b), f"{a.label} → {b.label}"


@router.get(
    response_model=None,
    path="/config/diff",
    summary="what changed between two versions, secrets redacted",
)
def diff(
    ws: Ws,
    who: Viewer,
    old: Ref,
    new: Ref,
    path: PathQuery = None,
    by_key: bool = False,
) -> dict[str, Any]:
    a, b, _ = _sides(ws, old, new, path)
    if by_key:
        return views.key_diff_doc(compare.key_diff(a, b))
    return views.text_diff_doc(compare.text_diff(a, b))


@router.get(
    response_model=None,
    path="/config/diff.html",
    response_class=HTMLResponse,
    summary="the diff as an HTML fragment",
)
def diff_html(
    ws: Ws,
    who: Viewer,
    old: Ref,
    new: Ref,
    path: PathQuery = None,
    side_by_side: bool = True,
) -> HTMLResponse:
    a, b, _ = _sides(ws, old, new, path)
    result = compare.text_diff(a, b)
    fragment = render.side_by_side_fragment if side_by_side else render.unified_fragment
    return HTMLResponse(fragment(result))
