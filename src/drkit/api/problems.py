"""Errors as RFC 9457 problem documents: drkit's code, message and hint, never a traceback.

A :class:`~drkit.errors.DrkitError` keeps its stable code; its HTTP status
comes from its kind (:func:`status_for`). Anything else is an internal
error: logged on the server with its traceback, answered with a problem
document that says only that.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from drkit.catalog.errors import CatalogNewer, CatalogUnavailable
from drkit.errors import DrkitError, RepositoryLocked, StorageError, UsageError
from drkit.runbooks.errors import ApprovalRefused, RunbookError
from drkit.users.errors import NotAuthenticated, NotPermitted, UserExists

log = logging.getLogger("drkit.api")

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


CONFLICT_CODES = ("preview-outdated", "run-not-cancellable")


def status_for(exc: DrkitError) -> int:
    """The HTTP status of a drkit error, by its kind."""
    if isinstance(exc, NotAuthenticated):
        return 401
    if isinstance(exc, NotPermitted | ApprovalRefused):
        return 403
    if exc.code.endswith("-not-found"):
        return 404
    if isinstance(exc, UserExists | RepositoryLocked) or exc.code in CONFLICT_CODES:
        return 409
    if isinstance(exc, RunbookError) and exc.exit_code in (60, 64):
        return 409  # the runbook or the run is not in a state for this (invalid, not waiting)
    if exc.code in ("launcher-busy", "daemon-stopping"):
        return 503
    if exc.code == "repository-timeout":
        return 504
    if isinstance(exc, CatalogUnavailable | CatalogNewer):
        return 503
    if isinstance(exc, StorageError):
        return 502
    if isinstance(exc, UsageError) or exc.exit_code in (2, 50, 51):
        return 400
    return 500


def problem(
    status: int, code: str, detail: str, hint: str = "", *, instance: str = "", **extra: Any
) -> JSONResponse:
    doc: dict[str, Any] = {
        "type": f"urn:drkit:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "hint": hint,
        **({"instance": instance} if instance else {}),
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="drkit"'} if status == 401 else None
    return JSONResponse(doc, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(DrkitError)
    async def drkit_error(request: Request, exc: DrkitError) -> JSONResponse:
        return problem(
            status_for(exc),
            exc.code,
            exc.message,
            exc.hint,
            instance=request.url.path,
            exit_code=exc.exit_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return problem(
            422,
            "invalid-request",
            "the request does not match the API",
            "see /api/docs for the parameters and body of this route",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "no-such-route", 405: "method-not-allowed"}.get(exc.status_code, "http")
        hint = "see /api/docs for the routes" if exc.status_code in (404, 405) else ""
        return problem(exc.status_code, code, str(exc.detail), hint, instance=request.url.path)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(
            500,
            "internal",
            "drkit failed to answer this request",
            "the daemon's log has the details; please report it",
            instance=request.url.path,
        )
