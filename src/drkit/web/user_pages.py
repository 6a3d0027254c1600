"""Users and their API tokens, the caller's own tokens, and the audit log.

An admin (``manage-users``) sees every user and can issue or revoke any
user's tokens at ``/users/NAME``; anyone signed in can at ``/tokens`` for
themselves, never wider than their own permissions. A new token's secret is
shown once, on the page the form redirects to (:mod:`drkit.web.flash`; with
``Cache-Control: no-store``), and only its hash is kept. Every change goes
through :mod:`drkit.services.users` (audited there); every form needs the
session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from drkit.api.auth import Principal
from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.services import users
from drkit.services.workspace import Workspace
from drkit.users import parse_permission
from drkit.users.audit import entries
from drkit.users.model import Permission
from drkit.users.tokens import IssuedToken, capped_permissions, parse_expiry
from drkit.web.flash import OneTime
from drkit.web.pages import COOKIE, PAGE_SIGNED_IN, PageRequire
from drkit.web.render import Ws, check_csrf, error_status, page

MANAGE_USERS = PageRequire(Permission.MANAGE_USERS)
Admin = Annotated[Principal, Depends(MANAGE_USERS)]
SignedIn = Annotated[Principal, Depends(PAGE_SIGNED_IN)]
Csrf = Annotated[str, Form(max_length=100)]
Label = Annotated[str, Form(max_length=200)]
Expires = Annotated[str, Form(max_length=40)]
Perms = Annotated[list[str], Form(max_length=20)]
AUDIT_LIMIT = 200
NEW_SECRETS: OneTime[IssuedToken] = OneTime()


def install(app: FastAPI) -> None:
    app.get("/users", include_in_schema=False)(user_list)
    app.get("/users/{name}", include_in_schema=False)(user_page)
    app.post("/users/{name}/tokens", include_in_schema=False)(add_user_token)
    app.post("/users/{name}/tokens/{token_id}/revoke", include_in_schema=False)(revoke_user_token)
    app.get("/tokens", include_in_schema=False)(my_tokens)
    app.post("/tokens", include_in_schema=False)(add_my_token)
    app.post("/tokens/{token_id}/revoke", include_in_schema=False)(revoke_my_token)
    app.get("/audit", include_in_schema=False)(audit_log)


def user_list(request: Request, ws: Ws, who: Admin) -> Response:
    return page(request, "users.html", who, users=users.list_users(ws))


def user_page(request: Request, name: str, ws: Ws, who: Admin, new: str | None = None) -> Response:
    issued = _taken(request, new)
    return _tokens_page(request, ws, who, name[:100], f"/users/{name[:100]}", issued=issued)


def add_user_token(
    request: Request,
    name: str,
    ws: Ws,
    who: Admin,
    csrf: Csrf = "",
    label: Label = "",
    expires: Expires = "",
    permissions: Perms = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    check_csrf(request, csrf)
    base = f"/users/{name[:100]}"
    try:
        wanted = _permissions(permissions, who, cap=False)
        issued = _issue(ws, who, name[:100], label, expires, wanted)
    except DrkitError as exc:
        return _tokens_page(
            request, ws, who, name[:100], base, problem=exc, status=error_status(exc)
        )
    return _show_once(request, base, issued)


def revoke_user_token(
    request: Request, name: str, token_id: str, ws: Ws, who: Admin, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    base = f"/users/{name[:100]}"
    try:
        users.remove_token(ws, who.actor, token_id[:16], user=name[:100])
    except DrkitError as exc:
        return _tokens_page(
            request, ws, who, name[:100], base, problem=exc, status=error_status(exc, 404)
        )
    return RedirectResponse(base, status_code=303)


def my_tokens(request: Request, ws: Ws, who: SignedIn, new: str | None = None) -> Response:
    return _tokens_page(request, ws, who, who.user, "/tokens", issued=_taken(request, new))


def add_my_token(
    request: Request,
    ws: Ws,
    who: SignedIn,
    csrf: Csrf = "",
    label: Label = "",
    expires: Expires = "",
    permissions: Perms = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    check_csrf(request, csrf)
    try:
        wanted = _permissions(permissions, who, cap=True)
        issued = _issue(ws, who, who.user, label, expires, wanted)
    except DrkitError as exc:
        return _tokens_page(
            request, ws, who, who.user, "/tokens", problem=exc, status=error_status(exc)
        )
    return _show_once(request, "/tokens", issued)


def revoke_my_token(
    request: Request, token_id: str, ws: Ws, who: SignedIn, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    try:
        users.remove_token(ws, who.actor, token_id[:16], user=who.user)
    except DrkitError as exc:
        return _tokens_page(
            request, ws, who, who.user, "/tokens", problem=exc, status=error_status(exc, 404)
        )
    return RedirectResponse("/tokens", status_code=303)


def audit_log(
    request: Request,
    ws: Ws,
    who: Admin,
    actor: str | None = None,
    action: str | None = None,
) -> Response:
    actor, action = (actor or "")[:200] or None, (action or "")[:100] or None
    with ws.catalog().session() as s:
        found = entries(s, limit=AUDIT_LIMIT, actor=actor, action=action)
    return page(request, "audit.html", who, entries=found, actor=actor or "", action=action or "")


def _permissions(chosen: list[str], who: Principal, *, cap: bool) -> list[Permission] | None:
    """The new token's permissions; none ticked: the user's own (capped by the session's)."""
    wanted = [parse_permission(p) for p in chosen] if chosen else None
    return capped_permissions(wanted, who.permissions, cap=cap)


def _issue(
    ws: Workspace,
    who: Principal,
    user: str,
    label: str,
    expires: str,
    permissions: list[Permission] | None,
) -> IssuedToken:
    until = parse_expiry(expires, utcnow()) if expires.strip() else None
    return users.add_token(ws, who.actor, user, label.strip(), permissions, until)


def _show_once(request: Request, base: str, issued: IssuedToken) -> Response:
    """Redirect to the tokens page, which shows the new secret once (a reload makes no token)."""
    key = NEW_SECRETS.put(request.cookies.get(COOKIE, ""), issued, utcnow())
    return RedirectResponse(f"{base}?new={key}", status_code=303)


def _taken(request: Request, key: str | None) -> IssuedToken | None:
    if not key:
        return None
    return NEW_SECRETS.take(request.cookies.get(COOKIE, ""), key[:100], utcnow())


def _tokens_page(
    request: Request,
    ws: Workspace,
    who: Principal,
    user: str,
    base: str,
    *,
    issued: IssuedToken | None = None,
    problem: DrkitError | None = None,
    status: int = 200,
) -> Response:
    try:
        account = users.get_user(ws, user)
    except DrkitError as exc:
        status = error_status(exc, 404)
        return page(request, "tokens.html", who, status, user=user, problem=exc, base=base)
    response = page(
        request,
        "tokens.html",
        who,
        status,
        user=user,
        account=account,
        tokens=users.tokens(ws, user),
        now=utcnow(),
        base=base,
        issued=issued,
        problem=problem,
        permissions=list(Permission),
    )
    response.headers["Cache-Control"] = "no-store"  # the secret is on this page, once
    return response
