"""The dashboard: login, logout, overview and runs here; the other pages in their modules."""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from drkit.api.auth import Principal, origin
from drkit.api.repos import request_workspace
from drkit.catalog.runs import list_runs
from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.monitor.alerts import open_alerts
from drkit.services.audit import Actor, audit
from drkit.services.status import status_report
from drkit.users import store
from drkit.users.audit import Outcome
from drkit.users.sessions import end_session, start_session
from drkit.web import (
    approval_pages,
    config_pages,
    drill_pages,
    runbook_pages,
    snapshot_pages,
    user_pages,
)
from drkit.web.pages import COOKIE, PAGE_SIGNED_IN, LoginRequired, PageForbidden, signed_in
from drkit.web.render import SECURITY_HEADERS, FormExpired, Viewer, Ws, csrf_token, render
from drkit.web.throttle import Throttle

LOGIN_CSRF = "drkit_login_csrf"
PUBLIC_PAGES = ("/login",)
PAGES = (
    snapshot_pages.install,
    drill_pages.install,
    runbook_pages.install,
    approval_pages.install,
    config_pages.install,
    user_pages.install,
)


def install(app: FastAPI) -> None:
    """Add the dashboard's pages and assets to ``app`` (the API's)."""
    throttle = Throttle()
    static = resources.files("drkit.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> Response:
        return render("forbidden.html", 403, who=None, message=exc.message)

    @app.exception_handler(FormExpired)
    async def form_expired(request: Request, exc: FormExpired) -> Response:
        return HTMLResponse("the form expired: reload the page", 400, SECURITY_HEADERS)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return _login_form(request)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        ws: Ws,
        username: Annotated[str, Form(max_length=100)],
        password: Annotated[str, Form(max_length=1000)],
        csrf: Annotated[str, Form(max_length=100)],
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            return _login_form(request, "the form expired: sign in again", 400)
        keys, now = [f"user:{username}", f"ip:{origin(request)}"], utcnow()
        wait = throttle.wait(keys, now)
        actor = Actor(username, "session", origin(request))
        if wait.total_seconds() > 0:
            audit(ws, actor, "web.login", username, Outcome.DENIED, "throttled")
            seconds = int(wait.total_seconds()) + 1
            return _login_form(request, f"too many failed sign-ins: wait {seconds} s", 429)
        with ws.catalog().session() as s:
            user = store.authenticate(s, username, password)
            if user is not None:
                old = request.cookies.get(COOKIE)
                if old:
                    end_session(s, old)  # a new id at every sign-in: no session fixation
                cookie, _ = start_session(s, user.name, now)
        if user is None:
            throttle.failed(keys, now)
            audit(ws, actor, "web.login", username, Outcome.FAILED, "wrong name or password")
            return _login_form(request, "wrong name or password", 401)
        throttle.succeeded(keys)
        audit(ws, actor, "web.login", username, Outcome.OK)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request,
        ws: Ws,
        who: Annotated[Principal, Depends(PAGE_SIGNED_IN)],
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        found = signed_in(request)
        if found is None or not secrets.compare_digest(found[1].csrf, csrf):
            return HTMLResponse("the form expired: reload the page", 400, SECURITY_HEADERS)
        with ws.catalog().session() as s:
            end_session(s, request.cookies.get(COOKIE, ""))
        audit(ws, who.actor, "web.logout", who.user, Outcome.OK)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/", include_in_schema=False)
    def overview(request: Request, ws: Ws, who: Viewer) -> Response:
        now = utcnow()
        problem, report = None, None
        try:
            with request_workspace(ws) as one:
                report = status_report(one, None, now)
        except DrkitError as exc:
            problem = exc
        policies = ws.settings.policies
        return render(
            "overview.html",
            who=who,
            csrf=csrf_token(request),
            report=report,
            policies=policies,
            problem=problem,
            alerts=open_alerts(ws.catalog()),
        )

    @app.get("/runs", include_in_schema=False)
    def runs(request: Request, ws: Ws, who: Viewer) -> Response:
        views = list_runs(ws.catalog(), limit=100)
        return render("runs.html", who=who, csrf=csrf_token(request), runs=views)

    @app.get("/runs/{run_id}", include_in_schema=False)
    def run(request: Request, run_id: int, ws: Ws, who: Viewer) -> Response:
        return approval_pages.run_page(request, ws, who, run_id)

    for add in PAGES:
        add(app)


def _login_form(request: Request, message: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render("login.html", status, csrf=token, message=message)
    response.set_cookie(
        LOGIN_CSRF,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response
