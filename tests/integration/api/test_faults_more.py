"""Faults under a running API: a locked catalog, a repository that does not answer, a
catalog gone while a run is launched: problem documents with a hint, never a traceback."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.servers import AWS_UNSET

from drkit.api import create_app
from drkit.api.server import ApiServer
from drkit.services.workspace import Workspace
from tests.fixtures.haproxy import wait_until
from tests.fixtures.net import free_port
from tests.fixtures.s3 import FAKE_AWS_ENV
from tests.integration.api.conftest import add_callers, make_home


class BlackHole:
    """A TCP server that accepts connections and never answers (a hung storage server)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:  # the client's read ends now, not at its own timeout
            conn.close()
        self._thread.join(5)


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, Path, BlackHole]]:
    for name in AWS_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    hole = BlackHole()
    root = tmp_path / "home"
    make_home(root)
    text = (root / "drkit.yaml").read_text()
    slow = (
        "  hung:\n"
        f"    url: s3://drkit-hung/repo?endpoint=http://127.0.0.1:{hole.port}\n"
        f"    password_file: {root}/pw\n"
    )
    (root / "drkit.yaml").write_text(text.replace("policies:\n", slow + "policies:\n"))
    ws = Workspace(config=root / "drkit.yaml")
    tokens = add_callers(ws.catalog())
    app = create_app(ws, repository_timeout=1.0)
    server = ApiServer(app, f"127.0.0.1:{free_port()}")
    host, port = server.server_address
    auth = {"Authorization": f"Bearer {tokens['operator']}"}
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", headers=auth, timeout=120) as c:
            yield c, root, hole
    finally:
        hole.close()
        server.shutdown()
        ws.close()


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in r.text
    doc: dict[str, str] = r.json()
    assert doc["code"] == code and doc["hint"], doc
    return doc


def test_a_repository_that_does_not_answer_is_a_504_problem(
    served: tuple[httpx.Client, Path, BlackHole],
) -> None:
    c, _, hole = served
    doc = _problem(c.get("/api/repositories/hung/snapshots"), 504, "repository-timeout")
    assert "within 1 s" in doc["detail"] and "drkit --repo NAME check" in doc["hint"]
    # it did go to the storage server, which said nothing (on a loaded machine the read
    # may reach it only after the deadline: it goes on in the background)
    wait_until(lambda: hole.accepted, timeout=60, what="the read reaching the storage server")
    assert c.get("/api/runs").status_code == 200  # the API itself goes on answering
    assert c.get("/healthz").status_code == 200


def test_a_locked_catalog_is_a_503_problem_naming_the_lock(
    served: tuple[httpx.Client, Path, BlackHole],
) -> None:
    c, root, _ = served
    holder = sqlite3.connect(root / "catalog.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        doc = _problem(c.get("/api/runs"), 503, "catalog-unavailable")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "database is locked" in doc["detail"] and "write lock" in doc["hint"]
    assert c.get("/api/runs").status_code == 200  # and once it is free, all is well
