"""Approving or rejecting, from a run's page, the manual step a runbook run waits at.

The run page (``/runs/ID``) shows a form while a runbook run waits for an
approval; it posts here with the session's CSRF token. The decision is the
signed-in user's, through :func:`drkit.services.runbook_approval.decide`:
someone who may not decide (no ``approve`` permission, not an approver of the
step, the starter of a ``not_by_starter`` step) gets the run page again with
the reason, and the refusal is audited and kept in the run's approvals.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from drkit.api.auth import Principal
from drkit.catalog.runs import get_run
from drkit.errors import DrkitError, UsageError
from drkit.runbooks.model import STEP_ID
from drkit.services.runbook_approval import decide
from drkit.services.runbook_views import waiting_step
from drkit.web.render import Viewer, Ws, check_csrf, error_status, page

Csrf = Annotated[str, Form(max_length=100)]
Comment = Annotated[str, Form(max_length=1000)]


class Choice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def install(app: FastAPI) -> None:
    app.post("/runs/{run_id}/steps/{step}/decide", include_in_schema=False)(decide_step)


def run_page(
    request: Request,
    ws: Ws,
    who: Principal,
    run_id: int,
    status: int = 200,
    problem: DrkitError | None = None,
) -> Response:
    """The run's page, with the decision form while it waits at a manual step."""
    view = get_run(ws.catalog(), run_id)
    waiting = waiting_step(ws.catalog(), view)
    return page(request, "run.html", who, status, run=view, waiting=waiting, problem=problem)


def decide_step(
    request: Request,
    run_id: int,
    step: str,
    ws: Ws,
    who: Viewer,
    verdict: Annotated[Choice, Form()],
    csrf: Csrf = "",
    comment: Comment = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        if STEP_ID.fullmatch(step) is None:
            raise UsageError(f"{step[:64]!r} is not a step id", hint="reload the run's page")
        decide(ws, who, run_id, step, approve=verdict is Choice.APPROVE, comment=comment)
    except DrkitError as exc:
        return run_page(request, ws, who, run_id, error_status(exc), exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)
