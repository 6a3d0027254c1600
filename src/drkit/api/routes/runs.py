"""Runs and their journals (`drkit runs --json`, `drkit runs show ID --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from drkit.api import events
from drkit.api.auth import VIEW, Principal, workspace
from drkit.api.jsonbody import JSONBody
from drkit.catalog.runs import RunStatus, get_run, list_runs
from drkit.services.workspace import Workspace

router = APIRouter(tags=["runs"])
Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(VIEW)]
RunId = Annotated[int, Path(ge=1, le=2**62)]


@router.get(
    response_model=None, path="/runs", response_class=JSONBody, summary="runs, newest first"
)
def runs(
    ws: Ws,
    who: Viewer,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    subject: Annotated[str | None, Query(max_length=300)] = None,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> JSONBody:
    views = list_runs(ws.catalog(), kind=kind, subject=subject, status=status, limit=limit)
    return JSONBody([v.to_json() for v in views])


@router.get(response_model=None, path="/runs/{run_id}", summary="one run with its journal of steps")
def run(run_id: RunId, ws: Ws, who: Viewer) -> dict[str, Any]:
    return get_run(ws.catalog(), run_id).to_json()


@router.get(
    response_model=None,
    path="/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the journal, live"}},
    summary="the run's journal as server-sent events, live while it runs; `end` has the outcome",
)
async def run_events(
    run_id: RunId,
    request: Request,
    ws: Ws,
    who: Viewer,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    catalog = ws.catalog()
    await run_in_threadpool(
        get_run, catalog, run_id
    )  # a missing run is a 404 problem, not a stream
    body = events.stream(
        catalog,
        run_id,
        events.parse_last_id(last_event_id),
        getattr(request.app.state, "launcher", None),
        request.is_disconnected,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
