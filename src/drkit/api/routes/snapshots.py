"""Snapshots of a repository defined in drkit.yaml (`drkit snapshots --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from drkit.api.auth import VIEW, Principal, workspace
from drkit.api.repos import request_workspace
from drkit.services.workspace import Workspace

router = APIRouter(tags=["snapshots"])


@router.get(
    response_model=None, path="/repositories/{name}/snapshots", summary="snapshots, oldest first"
)
def list_snapshots(
    name: str,
    ws: Annotated[Workspace, Depends(workspace)],
    who: Annotated[Principal, Depends(VIEW)],
    host: Annotated[str | None, Query(max_length=300)] = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    with request_workspace(ws) as one:
        repo = one.open_named(name)
        snaps = repo.snapshots(on_damaged=lambda *_: None)
    return [
        s.listing_json()
        for s in snaps
        if (not host or s.hostname == host) and all(t in s.tags for t in tag or [])
    ]
