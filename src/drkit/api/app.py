"""The ASGI application `drkit serve` runs: the API under /api, /metrics and /healthz."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from drkit import __version__
from drkit.api import problems
from drkit.api.auth import requirement
from drkit.api.routes import alerts, audit, config, jobs, runs, snapshots, status, users
from drkit.services.workspace import Workspace

ROUTERS = (status, snapshots, runs, jobs, alerts, config, users, audit)
PUBLIC = ("/healthz", "/metrics", "/api/openapi.json", "/api/docs")  # no permission needed


def create_app(
    workspace: Workspace,
    *,
    registry: CollectorRegistry | None = None,
    healthy: Callable[[], bool] = lambda: True,
) -> FastAPI:
    """The app over ``workspace`` (its catalog opened here, once)."""
    app = FastAPI(
        title="drkit",
        version=__version__,
        description="drkit's REST API: every route names the permission it needs (docs/api.md).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    workspace.catalog()
    app.state.workspace = workspace
    problems.install(app)
    api = APIRouter(prefix="/api")
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    for _path, _method, route in api_routes(app):
        needed = requirement(route)
        if needed is not None:
            route.openapi_extra = {"x-drkit-permission": needed.name}
    _add_daemon_routes(app, registry, healthy)
    return app


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(path, method, route) of every API route, through included routers too."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found += [(context.path, m, route) for m in sorted((route.methods or set()) - {"HEAD"})]
    return found


def _add_daemon_routes(
    app: FastAPI, registry: CollectorRegistry | None, healthy: Callable[[], bool]
) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        ok = healthy()
        return PlainTextResponse("ok\n" if ok else "stopping\n", status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) if registry is not None else b""
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = resources.files("drkit.api") / "static" / "docs.html"
        return HTMLResponse(page.read_text())
