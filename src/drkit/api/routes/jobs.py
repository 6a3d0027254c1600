"""The daemon's scheduled jobs (`drkit jobs --json`) and running one now (`drkit run-job`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from drkit.api.auth import BACKUP, VIEW, Principal, workspace
from drkit.api.launching import ACCEPTED, start
from drkit.catalog.runs import RunJournal
from drkit.catalog.types import utcnow
from drkit.services.jobs import JobRun, find_job, job_rows, run_job
from drkit.services.launch import JournalProgress
from drkit.services.workspace import Workspace

router = APIRouter(tags=["jobs"])
Ws = Annotated[Workspace, Depends(workspace)]


@router.get(response_model=None, path="/jobs", summary="scheduled jobs, next start, last slot")
def jobs(ws: Ws, who: Annotated[Principal, Depends(VIEW)]) -> list[dict[str, Any]]:
    return job_rows(ws, utcnow())


@router.post(
    response_model=None,
    path="/jobs/{job_id}/run",
    status_code=202,
    responses=ACCEPTED,
    summary="run a scheduled job now, journaled like a scheduled run (drkit run-job)",
)
def run_now(
    job_id: Annotated[str, Path(min_length=1, max_length=300)],
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(BACKUP)],
) -> JSONResponse:
    job = find_job(ws, job_id)

    def run(one: Workspace, progress: JournalProgress) -> JobRun:
        journal = RunJournal(one.catalog(), progress.journal.run_id)
        return run_job(one, job, journal, progress.stopping)

    return start(
        request,
        who,
        action="job.run",
        kind=job.kind.value,
        subject=job.subject,
        operation=run,
        judge=JobRun.failure,
        job=job.id,
    )
