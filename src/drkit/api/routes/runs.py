"""Runs and their journals (`drkit runs --json`, `drkit runs show ID --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from drkit.api.auth import VIEW, Principal, workspace
from drkit.catalog.runs import RunStatus, get_run, list_runs
from drkit.services.workspace import Workspace

router = APIRouter(tags=["runs"])
Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(VIEW)]


@router.get(response_model=None, path="/runs", summary="runs, newest first")
def runs(
    ws: Ws,
    who: Viewer,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    subject: Annotated[str | None, Query(max_length=300)] = None,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    views = list_runs(ws.catalog(), kind=kind, subject=subject, status=status, limit=limit)
    return [v.to_json() for v in views]


@router.get(response_model=None, path="/runs/{run_id}", summary="one run with its journal of steps")
def run(run_id: Annotated[int, Path(ge=1, le=2**62)], ws: Ws, who: Viewer) -> dict[str, Any]:
    return get_run(ws.catalog(), run_id).to_json()
