"""Library failures of a webhook's POST reach the user as a NotifyError with a hint.

A real HTTP server whose answer httpx cannot decode (gzip that is not), and a
CA file that holds no certificate (the ssl module refuses it): each used to
escape the driver as a bare library exception ("failed unexpectedly").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from drkit.notify.base import EventAction, Notification, Severity
from drkit.notify.dispatch import deliver
from drkit.notify.errors import NotifyError, NotifyRejected
from drkit.notify.webhook import WebhookSettings, build

EVENT = Notification(
    action=EventAction.TRIGGER,
    dedup_key="boundary",
    severity=Severity.INFO,
    summary="boundary test",
    source="tests",
    time=datetime(2026, 1, 1, tzinfo=UTC),
)


class _BadGzip(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"this is not gzip at all"
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bad_gzip_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadGzip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/SECRET-PATH"
    server.shutdown()
    server.server_close()


def test_an_answer_httpx_cannot_decode_is_a_notify_error_with_a_hint(bad_gzip_url: str) -> None:
    notifier = build(WebhookSettings(url=bad_gzip_url), "hook")  # type: ignore[arg-type]
    with pytest.raises(NotifyError) as caught:
        notifier.send(EVENT)
    error = caught.value
    assert isinstance(error, NotifyRejected) and not error.transient
    assert "127.0.0.1" in error.message and "SECRET-PATH" not in error.message
    assert error.hint and "URL" in error.hint
    [delivery] = deliver(EVENT, [notifier], retries=0, timeout_s=10)
    assert not delivery.ok and "unexpectedly" not in (delivery.error or "")


def test_a_ca_file_without_a_certificate_is_a_notify_error_with_a_hint(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("no certificate here\n")
    settings = WebhookSettings(url="https://127.0.0.1:1/hook", ca_file=not_pem)  # type: ignore[arg-type]
    with pytest.raises(NotifyRejected) as caught:
        build(settings, "hook").send(EVENT)
    assert str(not_pem) in caught.value.message
    assert caught.value.hint and "PEM" in caught.value.hint
