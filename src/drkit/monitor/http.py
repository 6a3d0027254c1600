"""The daemon's small HTTP face: ``/metrics`` (Prometheus) and ``/healthz``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from drkit.errors import UsageError
from drkit.monitor.health import HealthCheck

StartResponse = Callable[..., Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request: a slow /metrics scrape never holds up /healthz."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_http(
    listen: str, registry: CollectorRegistry, health: HealthCheck
) -> tuple[WSGIServer, threading.Thread]:
    """Serve in a daemon thread; ``listen`` is HOST:PORT (port 0 picks a free one)."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            answer = health()
            start_response(
                "200 OK" if answer.ok else "503 Service Unavailable",
                [("Content-Type", "text/plain")],
            )
            return [answer.body.encode()]
        if environ.get("PATH_INFO") == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics or /healthz\n"]

    host, _, port = listen.rpartition(":")
    try:
        server = make_server(
            host, int(port), app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
    except OSError as exc:
        raise UsageError(
            f"cannot serve /metrics on {listen}: {exc.strerror}",
            hint="another drkit serve (or another program) may use that port: set "
            "daemon.listen in drkit.yaml or pass --listen HOST:PORT ('' turns it off)",
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="drkit-http", daemon=True)
    thread.start()
    return server, thread
