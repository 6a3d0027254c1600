"""Long operations answer 202 Accepted with their run's URL (Location and body).

The app's :class:`~drkit.services.launch.Launcher` runs them in the serve
process's background; each start is audited with the run it made.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from drkit.api.auth import Principal, workspace
from drkit.services.audit import audit
from drkit.services.launch import Judge, Launcher, Operation
from drkit.users.audit import Outcome

# the OpenAPI entry of a 202
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "started: the run's URL in Location and the body"}
}


def launcher(request: Request) -> Launcher:
    found: Launcher = request.app.state.launcher
    return found


def start(
    request: Request,
    who: Principal,
    *,
    action: str,
    kind: str,
    subject: str,
    operation: Operation,
    judge: Judge | None = None,
    job: str | None = None,
    cancellable: bool = False,
) -> JSONResponse:
    """Launch ``operation`` as a run of ``kind``; audit it; answer 202 with the run's URL.

    ``cancellable``: the operation reports progress, so ``POST /api/runs/ID/cancel`` stops it.
    """
    run_id = launcher(request).launch(
        kind, subject, operation, judge=judge, job=job, cancellable=cancellable
    )
    audit(workspace(request), who.actor, action, subject, Outcome.OK, f"run {run_id}")
    return accepted(run_id)


def accepted(run_id: int) -> JSONResponse:
    """The 202 of a started run: its URL in Location and the body."""
    url = f"/api/runs/{run_id}"
    body = {"run": run_id, "url": url, "events": f"{url}/events", "status": "running"}
    return JSONResponse(body, status_code=202, headers={"Location": url})
