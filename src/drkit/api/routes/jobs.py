"""The daemon's scheduled jobs (`drkit jobs --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from drkit.api.auth import VIEW, Principal, workspace
from drkit.catalog.types import utcnow
from drkit.services.jobs import job_rows
from drkit.services.workspace import Workspace

router = APIRouter(tags=["jobs"])


@router.get(response_model=None, path="/jobs", summary="scheduled jobs, next start, last slot")
def jobs(
    ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Principal, Depends(VIEW)]
) -> list[dict[str, Any]]:
    return job_rows(ws, utcnow())
