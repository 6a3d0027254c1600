"""Snapshots of a repository defined in drkit.yaml (`drkit snapshots --json`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from drkit.api.auth import VIEW, Principal
from drkit.api.jsonbody import JSONBody
from drkit.api.repos import within_deadline
from drkit.repository.snapshot import Snapshot
from drkit.services.workspace import Workspace

router = APIRouter(tags=["snapshots"])


@router.get(
    response_model=None,
    path="/repositories/{name}/snapshots",
    response_class=JSONBody,
    summary="snapshots, oldest first",
)
def list_snapshots(
    name: str,
    request: Request,
    who: Annotated[Principal, Depends(VIEW)],
    host: Annotated[str | None, Query(max_length=300)] = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> JSONBody:

    def read(one: Workspace) -> list[Snapshot]:
        return one.open_named(name).snapshots(on_damaged=lambda *_: None)

    snaps = within_deadline(request, f"repository {name!r}", read)
    return JSONBody(
        [
            s.listing_json()
            for s in snaps
            if (not host or s.hostname == host) and all(t in s.tags for t in tag or [])
        ]
    )
