"""A catalog gone under a running API: problem documents, never a traceback."""

from __future__ import annotations

from pathlib import Path

import httpx

from drkit.api import create_app
from drkit.api.server import ApiServer
from drkit.services.workspace import Workspace
from drkit.web import install as dashboard
from tests.fixtures.net import free_port
from tests.integration.api.conftest import add_callers, make_home


def test_a_catalog_gone_is_a_503_problem(tmp_path: Path) -> None:
    root = tmp_path / "home"
    make_home(root)
    ws = Workspace(config=root / "drkit.yaml")
    tokens = add_callers(ws.catalog())
    server = ApiServer(create_app(ws, mount=[dashboard]), f"127.0.0.1:{free_port()}")
    host, port = server.server_address
    auth = {"Authorization": f"Bearer {tokens['viewer']}"}
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", headers=auth, timeout=30) as c:
            assert c.get("/api/runs").status_code == 200
            ws.catalog().engine.dispose()
            for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
                (root / name).unlink(missing_ok=True)
            (root / "catalog.db").mkdir()  # what was the catalog file cannot be opened
            r = c.get("/api/runs")
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            doc = r.json()
            assert doc["code"] == "catalog-unavailable" and "catalog.url" in doc["hint"]
            assert "Traceback" not in r.text
            assert c.get("/healthz").status_code == 200  # the daemon itself is alive
    finally:
        server.shutdown()
        ws.close()
