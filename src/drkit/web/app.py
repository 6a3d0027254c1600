"""The dashboard's routes: login, logout, overview, runs, configuration history."""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from drkit.api.auth import Principal, origin, workspace
from drkit.api.repos import request_workspace
from drkit.catalog.runs import get_run, list_runs
from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.monitor.alerts import open_alerts
from drkit.policy.objectives import format_objective
from drkit.services.audit import Actor, audit
from drkit.services.status import restore_state, status_report
from drkit.services.workspace import Workspace
from drkit.users import store
from drkit.users.audit import Outcome
from drkit.users.sessions import end_session, start_session
from drkit.web.pages import COOKIE, PAGE_SIGNED_IN, PAGE_VIEW, LoginRequired, signed_in
from drkit.web.throttle import Throttle

LOGIN_CSRF = "drkit_login_csrf"
PUBLIC_PAGES = ("/login",)
_env = Environment(loader=PackageLoader("drkit.web", "templates"), autoescape=select_autoescape())
_env.filters["objective"] = lambda td: format_objective(td) if td is not None else "-"
_env.globals["restore_state"] = restore_state

Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(PAGE_VIEW)]


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def install(app: FastAPI) -> None:
    """Add the dashboard's pages and assets to ``app`` (the API's)."""
    throttle = Throttle()
    static = resources.files("drkit.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

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
            return HTMLResponse("the form expired: reload the page", status_code=400)
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
            csrf=_csrf(request),
            report=report,
            policies=policies,
            problem=problem,
            alerts=open_alerts(ws.catalog()),
        )

    @app.get("/runs", include_in_schema=False)
    def runs(request: Request, ws: Ws, who: Viewer) -> Response:
        views = list_runs(ws.catalog(), limit=100)
        return render("runs.html", who=who, csrf=_csrf(request), runs=views)

    @app.get("/runs/{run_id}", include_in_schema=False)
    def run(request: Request, run_id: int, ws: Ws, who: Viewer) -> Response:
        view = get_run(ws.catalog(), run_id)
        return render("run.html", who=who, csrf=_csrf(request), run=view)

    @app.get("/config", include_in_schema=False)
    def config(
        request: Request, ws: Ws, who: Viewer, old: str | None = None, new: str | None = None
    ) -> Response:
        from drkit.confighistory import compare
        from drkit.confighistory import html as diff_html
        from drkit.confighistory.service import History

        history = History(ws.catalog(), ws.settings, ws.settings_file, ws.home)
        versions = history.store.history(None, limit=50)
        fragment, problem = None, None
        if old and new:
            try:
                a = history.resolve(old, None)
                b = history.resolve(new, a.scope)
                result = compare.text_diff(history.side(a), history.side(b))
                fragment = diff_html.side_by_side_fragment(result)
            except DrkitError as exc:
                problem = exc
        return render(
            "config.html",
            diff_style=diff_html.STYLE,
            who=who,
            csrf=_csrf(request),
            versions=versions,
            old=old or "",
            new=new or "",
            fragment=fragment,
            problem=problem,
        )


def _csrf(request: Request) -> str:
    found = signed_in(request)
    return found[1].csrf if found else ""


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
