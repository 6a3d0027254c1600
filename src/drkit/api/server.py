"""Serving the app with uvicorn in a thread of `drkit serve`, on the daemon's listen address.

The socket is bound here, before uvicorn starts, so a port in use is a clear
error at start-up (not a log line in a thread), as with the old /metrics face.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from drkit.errors import UsageError

log = logging.getLogger("drkit.api")


class ApiServer:
    """The API, /metrics and /healthz, served until :meth:`shutdown`."""

    def __init__(self, app: FastAPI, listen: str) -> None:
        self._app = app
        self._sock = _bind(listen)
        self.server_address: tuple[str, int] = self._sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="drkit-api", daemon=True)
        self._thread.start()
        self._wait_started()

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def _wait_started(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)

    def shutdown(self) -> None:
        launcher = getattr(self._app.state, "launcher", None)
        if launcher is not None:  # operations started through the API: interrupted, recorded
            launcher.shutdown()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except (OSError, ValueError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) else f"bad port {port!r}"
        raise UsageError(
            f"cannot serve /metrics on {listen} (nor the API): {reason}",
            hint="another drkit serve (or another program) may use that port: set "
            "daemon.listen in drkit.yaml or pass --listen HOST:PORT ('' turns it off)",
        ) from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock
