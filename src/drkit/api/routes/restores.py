"""Restores, restore tests and backup drills started as runs (202 with the run's URL), and
the drills' recovery times against the RTO.

Each is the CLI's operation (`drkit restore`, `drkit verify restore-test --policy`,
`drkit drill backup --policy`) in serve's launcher, planned by
:mod:`drkit.services.restore_launch`; the finished run's result is that command's
``--json`` document, and a result that did not pass (paths not restored, a restore
test that failed, a drill past its RTO) ends the run failed with the error the CLI
exits with. Bad input (an unknown policy, repository or source, a target that is not
an empty directory) is refused before anything runs.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from drkit.api.auth import BACKUP, RESTORE, RUNBOOKS, VIEW, Principal, workspace
from drkit.api.launching import ACCEPTED, accepted, launcher
from drkit.services import restore_launch as plan
from drkit.services.workspace import Workspace

router = APIRouter(tags=["restores"])
Ws = Annotated[Workspace, Depends(workspace)]
Name = Annotated[str, Path(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=1000)]


class RestoreRequest(BaseModel):
    snapshot: str = Field(
        default="latest", min_length=1, max_length=100, description="an id prefix, or `latest`"
    )
    target: str = Field(min_length=1, max_length=4000, description="an absolute directory")
    include: list[Text] = Field(
        default_factory=list, max_length=100, description="restore only these paths of it"
    )
    overwrite: bool = False
    policy: str | None = Field(default=None, max_length=200)
    tags: list[Text] = Field(default_factory=list, max_length=20)
    paths: list[Text] = Field(default_factory=list, max_length=20)
    host: str | None = Field(default=None, max_length=300)


class RestoreTestStart(BaseModel):
    source: str | None = Field(
        default=None, min_length=1, max_length=1000, description="a label of the policy's"
    )
    repository: str | None = Field(
        default=None, min_length=1, max_length=200, description="the policy's (default: first)"
    )
    snapshot: str | None = Field(default=None, min_length=1, max_length=100)


class DrillStart(BaseModel):
    repository: str | None = Field(default=None, min_length=1, max_length=200)
    snapshot: str | None = Field(default=None, min_length=1, max_length=100)


@router.post(
    response_model=None,
    path="/repositories/{name}/restore",
    status_code=202,
    responses=ACCEPTED,
    summary="restore a snapshot (or paths of it) into a directory (drkit restore)",
)
def start_restore(
    name: Name,
    body: RestoreRequest,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(RESTORE)],
) -> JSONResponse:
    from drkit.services.restore import RestoreSpec

    spec = RestoreSpec(
        snapshot=body.snapshot,
        target=os.path.normpath(body.target),
        includes=list(body.include),
        overwrite=body.overwrite,
        policy=body.policy,
        tags=list(body.tags),
        paths=list(body.paths),
        host=body.host,
        repository=name,
    )
    return _start(request, ws, who, plan.plan_restore(ws, spec))


@router.post(
    response_model=None,
    path="/policies/{name}/restore-test",
    status_code=202,
    responses=ACCEPTED,
    summary="restore-test one source of a policy from one of its repositories "
    "(drkit verify restore-test --policy)",
)
def start_restore_test(
    name: Name,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(BACKUP)],
    body: RestoreTestStart | None = None,
) -> JSONResponse:
    asked = body or RestoreTestStart()
    planned = plan.plan_restore_test(
        ws, name, source=asked.source, repository=asked.repository, snapshot=asked.snapshot
    )
    return _start(request, ws, who, planned)


@router.post(
    response_model=None,
    path="/policies/{name}/drill",
    status_code=202,
    responses=ACCEPTED,
    summary="restore a policy's newest snapshots and time them against its RTO "
    "(drkit drill backup --policy)",
)
def start_drill(
    name: Name,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(RUNBOOKS)],
    body: DrillStart | None = None,
) -> JSONResponse:
    asked = body or DrillStart()
    planned = plan.plan_drill(ws, name, repository=asked.repository, snapshot=asked.snapshot)
    return _start(request, ws, who, planned)


@router.get(
    response_model=None,
    path="/drills",
    summary="drilled runbooks and restore tests of each source: recovery times against the RTO",
)
def drills(
    ws: Ws,
    who: Annotated[Principal, Depends(VIEW)],
    last: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    from drkit.services.drill_views import drills_overview

    return drills_overview(ws, last).to_json()


def _start(request: Request, ws: Workspace, who: Principal, planned: plan.Planned) -> JSONResponse:
    return accepted(plan.launch(launcher(request), ws, who.actor, planned))
