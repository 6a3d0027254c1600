"""What every page shares: the templates, the signed-in caller's CSRF token, form checks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from drkit.api.auth import Principal, workspace
from drkit.api.problems import status_for
from drkit.errors import DrkitError
from drkit.policy.objectives import format_objective
from drkit.runbooks.durations import duration_text
from drkit.services.status import restore_state
from drkit.services.workspace import Workspace
from drkit.users.model import Permission
from drkit.web.pages import PAGE_VIEW, signed_in

_env = Environment(loader=PackageLoader("drkit.web", "templates"), autoescape=select_autoescape())
_env.filters["objective"] = lambda td: format_objective(td) if td is not None else "-"
_env.filters["duration"] = duration_text
_env.filters["when"] = lambda t: t.strftime("%Y-%m-%d %H:%M") if isinstance(t, datetime) else "-"
_env.filters["timestamp"] = lambda s: datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%d %H:%M")
_env.filters["size"] = lambda n: _human_bytes(int(n))
_env.globals["restore_state"] = restore_state
_env.globals["Permission"] = Permission

Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(PAGE_VIEW)]


class FormExpired(Exception):
    """A form came back without the session's CSRF token: answered with a 400 page."""


SECURITY_HEADERS = {
    # no script at all, styles and images only from the package, forms only to here,
    # never inside a frame (a restore or revoke button cannot be clicked through a frame)
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold what a signed-in user may see, and CSRF tokens
}


def render(template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
    body = _env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def page(
    request: Request, template: str, who: Principal, status: int = 200, /, **context: Any
) -> HTMLResponse:
    """A signed-in page: the caller and the session's CSRF token (for the sign-out form) added."""
    return render(template, status, who=who, csrf=csrf_token(request), **context)


def csrf_token(request: Request) -> str:
    found = signed_in(request)
    return found[1].csrf if found else ""


def check_csrf(request: Request, presented: str) -> None:
    """Raise :class:`FormExpired` unless ``presented`` is this session's CSRF token."""
    expected = csrf_token(request)
    if not expected or not secrets.compare_digest(expected, presented):
        raise FormExpired


def error_status(exc: DrkitError, default: int = 400) -> int:
    """The page's status for ``exc``: the API's (404 not found, 502 storage, 503 catalog, ...);
    ``default`` for a kind the API has no status for (not a server error: the page explains)."""
    status = status_for(exc)
    return default if status == 500 else status


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
