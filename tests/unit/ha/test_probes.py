"""The probes against real local endpoints: each ok path, and each way it fails."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from drkit.ha.health.checks import CommandProbe, HttpProbe, TcpProbe


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 200 if self.path == "/ok" else 503
        body = b"status: healthy" if code == 200 else b"sick"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_ok_and_failures(http_port: int) -> None:
    base = f"http://127.0.0.1:{http_port}"
    assert HttpProbe("a", f"{base}/ok")(1.0).ok
    assert HttpProbe("a", f"{base}/ok", body_contains="healthy")(1.0).ok
    bad = HttpProbe("a", f"{base}/sick")(1.0)
    assert not bad.ok and "status 503" in bad.detail
    assert HttpProbe("a", f"{base}/sick", status=503)(1.0).ok
    assert not HttpProbe("a", f"{base}/ok", body_contains="nope")(1.0).ok


def test_http_refused_and_frozen_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts but never answers: a frozen server
        port = listener.getsockname()[1]
        result = HttpProbe("a", f"http://127.0.0.1:{port}/")(0.3)
        assert not result.ok and "Timeout" in result.detail
    closed = HttpProbe("a", f"http://127.0.0.1:{port}/")(0.3)
    assert not closed.ok


def test_tcp() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert TcpProbe("t", "127.0.0.1", port)(1.0).ok
    assert not TcpProbe("t", "127.0.0.1", port)(1.0).ok


def test_command() -> None:
    assert CommandProbe("c", "echo fine")(2.0).detail == "fine"
    failed = CommandProbe("c", "echo broken >&2; exit 3")(2.0)
    assert not failed.ok and "exited 3: broken" in failed.detail
    slow = CommandProbe("c", "sleep 5")(0.2)
    assert not slow.ok and "timed out" in slow.detail
