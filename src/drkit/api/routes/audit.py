"""The audit log (`drkit audit --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from drkit.api.auth import MANAGE_USERS, Principal, workspace
from drkit.services.workspace import Workspace
from drkit.users.audit import entries

router = APIRouter(tags=["audit"])


@router.get(
    response_model=None,
    path="/audit",
    summary="who did what, when, from where, the outcome; newest first",
)
def audit_log(
    ws: Annotated[Workspace, Depends(workspace)],
    who: Annotated[Principal, Depends(MANAGE_USERS)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    with ws.catalog().session() as s:
        found = entries(s, limit=limit, actor=actor, action=action)
    return [e.to_json() for e in found]
