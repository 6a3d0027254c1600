"""Runbooks (`drkit runbook list|show|log|guide --json`) and their runs: run one with
inputs, re-run one from a step or resume a stopped one (202 with the run's URL, in
serve's launcher; a resume goes on in the run it resumes), approve or reject a waiting
manual step, cancel a run.

Reading records nothing (the CLI records a changed runbook file as a version;
the API shows the versions recorded). A decision is the caller's, through
:func:`drkit.services.runbook_approval.decide`: a refused approver gets 403
``approval-refused`` with the reason, audited and kept in the run's approvals.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from drkit.api.auth import APPROVE, RUNBOOKS, VIEW, Principal, workspace
from drkit.api.launching import ACCEPTED, launcher
from drkit.runbooks import versions
from drkit.runbooks.errors import RunbookNotFound
from drkit.services import runbook_approval as approval
from drkit.services import runbook_launch as launch
from drkit.services import runbook_views as views
from drkit.services.audit import audit
from drkit.services.workspace import Workspace
from drkit.users.audit import Outcome

router = APIRouter(tags=["runbooks"])
Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(VIEW)]
Approver = Annotated[Principal, Depends(APPROVE)]
Operator = Annotated[Principal, Depends(RUNBOOKS)]
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
Version = Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$")]
StepId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
RunId = Annotated[int, Path(ge=1, le=2**62)]


class Decision(BaseModel):
    comment: str = Field(default="", max_length=1000)


@router.get(response_model=None, path="/runbooks", summary="runbooks with version, RTO, last run")
def runbooks(ws: Ws, who: Viewer) -> list[dict[str, Any]]:
    store = views.runbook_store(ws)
    return views.list_json(ws.catalog(), store, store.load)


@router.get(response_model=None, path="/runbooks/{name}", summary="a runbook as its file is now")
def runbook(name: Name, ws: Ws, who: Viewer) -> dict[str, Any]:
    return views.show_json(views.load(ws, name))


@router.get(
    response_model=None, path="/runbooks/{name}/versions", summary="recorded versions, newest first"
)
def runbook_versions(name: Name, ws: Ws, who: Viewer) -> list[dict[str, Any]]:
    found = versions.history(ws.catalog(), name)
    if not found and name not in views.runbook_store(ws).names():
        raise RunbookNotFound(f"no runbook {name!r}", hint="`GET /api/runbooks` lists them")
    return [views.version_json(v) for v in found]


@router.get(
    response_model=None,
    path="/runbooks/{name}/versions/{version}",
    summary="a runbook as recorded in a version (a hash prefix)",
)
def runbook_version(name: Name, version: Version, ws: Ws, who: Viewer) -> dict[str, Any]:
    return views.show_json(views.load(ws, name, version))


@router.get(
    response_model=None,
    path="/runbooks/{name}/guide",
    summary="the recovery guide: Markdown and the HTML the dashboard shows",
)
def runbook_guide(
    name: Name,
    ws: Ws,
    who: Viewer,
    version: Annotated[str | None, Query(pattern=r"^[0-9a-f]{1,64}$")] = None,
) -> dict[str, Any]:
    return views.guide_json(ws, views.load(ws, name, version))


@router.post(
    response_model=None,
    path="/runs/{run_id}/steps/{step}/approve",
    summary="approve a waiting manual step as the caller",
)
def approve(
    run_id: RunId, step: StepId, ws: Ws, who: Approver, body: Decision | None = None
) -> dict[str, Any]:
    comment = body.comment if body else ""
    return approval.decide(ws, who, run_id, step, approve=True, comment=comment).to_json()


@router.post(
    response_model=None,
    path="/runs/{run_id}/steps/{step}/reject",
    summary="reject a waiting manual step as the caller (the step fails)",
)
def reject(
    run_id: RunId, step: StepId, ws: Ws, who: Approver, body: Decision | None = None
) -> dict[str, Any]:
    comment = body.comment if body else ""
    return approval.decide(ws, who, run_id, step, approve=False, comment=comment).to_json()


@router.post(
    response_model=None,
    path="/runs/{run_id}/cancel",
    status_code=202,
    summary="ask a running runbook run to stop, as the caller",
)
def cancel(run_id: RunId, request: Request, ws: Ws, who: Operator) -> JSONResponse:
    """A runbook run through its engine; a backup, copy, restore, restore test or drill the
    API started, through the launcher (it stops at its next progress report)."""
    if launcher(request).cancel(run_id, who.user):
        said = f"asked run {run_id} to stop; it ends cancelled at its next progress report"
        audit(ws, who.actor, "run.cancel", f"run {run_id}", Outcome.OK, said)
    else:
        _runbook_run_or_refuse(ws, run_id)
        said = approval.cancel(ws, who, run_id)
    return JSONResponse({"run_id": run_id, "message": said}, status_code=202)


def _runbook_run_or_refuse(ws: Workspace, run_id: int) -> None:
    """A run the launcher did not take: the runbook engine's, or nobody's to cancel (409)."""
    from drkit.catalog.runs import RunStatus, get_run
    from drkit.runbooks.service import KINDS
    from drkit.services.launch import RunNotCancellable

    view = get_run(ws.catalog(), run_id)
    if view.kind in KINDS:
        return
    if view.status is not RunStatus.RUNNING:
        raise RunNotCancellable(f"run {run_id} is not running (it is {view.status.value})")
    raise RunNotCancellable(
        f"run {run_id} (a {view.kind} run) cannot be cancelled: only runbook runs and the "
        "backups, copies, restores, restore tests and drills this server started stop on "
        "request",
        hint="a scheduled job's steps stop with the daemon",
    )


class RunStart(BaseModel):
    inputs: dict[str, Annotated[str, Field(max_length=10000)]] = Field(
        default_factory=dict, max_length=100
    )
    drill: bool = False


class Rerun(BaseModel):
    from_step: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    inputs: dict[str, Annotated[str, Field(max_length=10000)]] = Field(
        default_factory=dict, max_length=100
    )


@router.post(
    response_model=None,
    path="/runbooks/{name}/runs",
    status_code=202,
    responses=ACCEPTED,
    summary="run a runbook with inputs, as the caller (drkit runbook run NAME --input ...)",
)
def start_runbook(
    name: Name, request: Request, ws: Ws, who: Operator, body: RunStart | None = None
) -> JSONResponse:
    asked = body or RunStart()
    planned = launch.plan_start(ws, name, dict(asked.inputs), drill=asked.drill, user=who.user)
    return _launch(request, ws, who, "runbook.run", planned)


class DrillInputs(BaseModel):
    inputs: dict[str, Annotated[str, Field(max_length=10000)]] = Field(
        default_factory=dict, max_length=100
    )


@router.post(
    response_model=None,
    path="/runbooks/{name}/drill",
    status_code=202,
    responses=ACCEPTED,
    summary="drill a runbook now with its drill's inputs from drkit.yaml, as the caller "
    "(drkit runbook run NAME --drill)",
)
def drill_runbook(
    name: Name, request: Request, ws: Ws, who: Operator, body: DrillInputs | None = None
) -> JSONResponse:
    given = dict(body.inputs) if body else {}
    planned = launch.plan_drill(ws, name, given, user=who.user)
    return _launch(request, ws, who, "runbook.drill", planned)


@router.post(
    response_model=None,
    path="/runs/{run_id}/rerun",
    status_code=202,
    responses=ACCEPTED,
    summary="a new run of a runbook run's version from a step (drkit runbook rerun ID --from)",
)
def rerun_runbook(
    run_id: RunId, body: Rerun, request: Request, ws: Ws, who: Operator
) -> JSONResponse:
    planned = launch.plan_rerun(ws, run_id, body.from_step, dict(body.inputs), user=who.user)
    return _launch(request, ws, who, "runbook.rerun", planned)


@router.post(
    response_model=None,
    path="/runs/{run_id}/resume",
    status_code=202,
    responses=ACCEPTED,
    summary="go on with a stopped runbook run at its first unfinished step (drkit runbook resume)",
)
def resume_runbook(run_id: RunId, request: Request, ws: Ws, who: Operator) -> JSONResponse:
    planned = launch.plan_resume(ws, run_id, user=who.user)
    return _launch(request, ws, who, "runbook.resume", planned)


def _launch(
    request: Request, ws: Workspace, who: Principal, action: str, planned: launch.Planned
) -> JSONResponse:
    run_id = launch.launch(launcher(request), ws, who.actor, action, planned)
    url = f"/api/runs/{run_id}"
    body = {"run": run_id, "url": url, "events": f"{url}/events", "status": "running"}
    return JSONResponse(body, status_code=202, headers={"Location": url})
