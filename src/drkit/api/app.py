"""The ASGI application `drkit serve` runs: the API under /api, /metrics and /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from drkit import __version__
from drkit.api import problems, repos
from drkit.api.auth import requirement
from drkit.api.routes import (
    alerts,
    audit,
    config,
    config_restore,
    jobs,
    operations,
    restores,
    runbooks,
    runs,
    snapshots,
    status,
    users,
)
from drkit.monitor.health import HealthCheck, always_ok
from drkit.services.launch import Launcher
from drkit.services.workspace import Workspace

ROUTERS = (
    status,
    snapshots,
    runs,
    jobs,
    operations,
    restores,
    alerts,
    config,
    config_restore,
    users,
    audit,
    runbooks,
)
# no permission needed
PUBLIC = ("/healthz", "/metrics", "/api/openapi.json", "/api/docs", "/login")


def create_app(
    workspace: Workspace,
    *,
    registry: CollectorRegistry | None = None,
    health: HealthCheck = always_ok,
    mount: Iterable[Callable[[FastAPI], None]] = (),
    launcher: Launcher | None = None,
    repository_timeout: float = repos.DEFAULT_TIMEOUT_S,
) -> FastAPI:
    """The app over ``workspace`` (its catalog opened here, once).

    ``mount`` adds other faces on the same app and address (the dashboard's
    ``drkit.web.install``): the caller composes them, so the API imports none.
    """
    app = FastAPI(
        title="drkit",
        version=__version__,
        description="drkit's REST API: every route names the permission it needs (docs/api.md).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    workspace.catalog()
    workspace.keep_caches()  # derived keys and read snapshots, across requests
    app.state.workspace = workspace
    # long operations started through the API run here; ApiServer.shutdown stops them
    app.state.launcher = launcher or Launcher(workspace)
    # reading repositories: a pool of its own, and a deadline for each request
    app.state.repository_pool = repos.new_pool()
    app.state.repository_timeout = repository_timeout
    problems.install(app)
    api = APIRouter(prefix="/api")
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    _document_permissions(app)
    _add_daemon_routes(app, registry, health)
    for add in mount:
        add(app)
    return app


def _document_permissions(app: FastAPI) -> None:
    """Each operation in /api/openapi.json names its permission and the bearer scheme."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "a drkit API token"}
        }
        for path, method, route in api_routes(app):
            needed = requirement(route)
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if needed is not None and operation is not None:
                operation["x-drkit-permission"] = needed.name
                operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(path, method, route) of every API route, through included routers too."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found += [(context.path, m, route) for m in sorted((route.methods or set()) - {"HEAD"})]
    return found


def _add_daemon_routes(
    app: FastAPI, registry: CollectorRegistry | None, health: HealthCheck
) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        answer = health()
        return PlainTextResponse(answer.body, status_code=answer.status)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) if registry is not None else b""
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = resources.files("drkit.api") / "static" / "docs.html"
        return HTMLResponse(page.read_text())
