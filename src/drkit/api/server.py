"""Serving the app with uvicorn in a thread of `drkit serve`, on the daemon's listen address.

The socket is bound here, before uvicorn starts, so a port in use is a clear
error at start-up (not a log line in a thread), as with the old /metrics face.
With ``daemon.tls`` the app is served over HTTPS (the certificate and key are
loaded here too, so a bad file is an error at start-up). Plain HTTP on an
address other than loopback is refused unless ``daemon.allow_insecure_http``
(:func:`insecure_listen`): tokens and passwords would cross the network
readable.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import threading
import time

import uvicorn
from fastapi import FastAPI

from drkit.errors import ConfigError, UsageError
from drkit.settings.daemon import DaemonSettings

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


class InsecureListen(ConfigError):
    code = "insecure-listen"


log = logging.getLogger("drkit.api")


class ApiServer:
    """The API, /metrics and /healthz, served until :meth:`shutdown`."""

    def __init__(self, app: FastAPI, listen: str, daemon: DaemonSettings | None = None) -> None:
        """Serve ``app`` on ``listen`` by ``daemon``'s TLS rules (default: the app's
        workspace's drkit.yaml)."""
        self._app = app
        daemon = daemon or app.state.workspace.settings.daemon
        refusal = insecure_listen(
            listen, tls=daemon.tls is not None, allowed=daemon.allow_insecure_http
        )
        if refusal:
            raise InsecureListen(
                refusal,
                hint="set daemon.tls.cert and daemon.tls.key in drkit.yaml, listen on "
                "127.0.0.1 (--listen 127.0.0.1:PORT), or, behind a proxy that does TLS, "
                "set daemon.allow_insecure_http: true",
            )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=daemon.tls.cert if daemon.tls else None,
            ssl_keyfile=daemon.tls.key if daemon.tls else None,
        )
        _load(config, daemon)
        self.scheme = "https" if daemon.tls else "http"
        self._sock = _bind(listen)
        self.server_address: tuple[str, int] = self._sock.getsockname()[:2]
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
        pool = getattr(self._app.state, "repository_pool", None)
        if pool is not None:  # reads of slow repositories are not waited for
            pool.shutdown(wait=False, cancel_futures=True)
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


def insecure_listen(listen: str, *, tls: bool, allowed: bool) -> str | None:
    """Why serving plain HTTP on ``listen`` is refused, or None when it is not."""
    if tls or allowed:
        return None
    host = listen.rpartition(":")[0].strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may be reached from elsewhere
    where = host or "every address"
    return f"drkit serve would answer plain HTTP on {where} ({listen}), not only on loopback"


def _load(config: uvicorn.Config, daemon: DaemonSettings) -> None:
    """Load the TLS certificate now: a missing or wrong file is an error at start-up."""
    try:
        config.load()
    except (OSError, ssl.SSLError) as exc:
        assert daemon.tls is not None
        raise ConfigError(
            f"cannot use the TLS certificate {daemon.tls.cert} with key {daemon.tls.key}: {exc}",
            hint="daemon.tls.cert and daemon.tls.key must name readable PEM files, the key "
            "matching the certificate",
        ) from None
