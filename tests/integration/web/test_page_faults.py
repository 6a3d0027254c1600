"""Faults under the dashboard: a repository gone, the catalog gone; an error page, never a
traceback."""

from __future__ import annotations

from pathlib import Path

import httpx

from drkit.api import create_app
from drkit.api.server import ApiServer
from drkit.services.workspace import Workspace
from drkit.users import Role, store
from drkit.users.passwords import hash_password
from drkit.web import install as dashboard
from tests.fixtures.net import free_port
from tests.integration.api.conftest import Api, make_home
from tests.integration.web.conftest import PASSWORD, csrf_of, signed_in


def test_a_repository_gone_is_an_error_with_a_hint_on_its_pages(site: Api) -> None:
    repo, away = site.root / "repo", site.root / "repo-away"
    with signed_in(site, "dana") as c:
        repo.rename(away)
        try:
            listing = c.get("/snapshots/local")
            overview = c.get("/")
        finally:
            away.rename(repo)
        assert c.get("/snapshots/local").status_code == 200  # back
    assert listing.status_code in (404, 502) and 'class="error"' in listing.text
    assert '<span class="dim">' in listing.text  # the hint
    assert overview.status_code == 200 and 'class="error"' in overview.text
    assert "Traceback" not in listing.text + overview.text


def test_a_catalog_gone_under_a_signed_in_page_is_a_503_not_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "home"
    make_home(root)
    ws = Workspace(config=root / "drkit.yaml")
    with ws.catalog().session() as s:
        store.add_user(s, "dana", hash_password(PASSWORD), [Role.VIEWER])
    server = ApiServer(create_app(ws, mount=[dashboard]), f"127.0.0.1:{free_port()}")
    host, port = server.server_address
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as c:
            form = c.get("/login")
            data = {"username": "dana", "password": PASSWORD, "csrf": csrf_of(form)}
            assert c.post("/login", data=data).status_code == 303
            assert c.get("/runs").status_code == 200
            ws.catalog().engine.dispose()
            for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
                (root / name).unlink(missing_ok=True)
            (root / "catalog.db").mkdir()  # what was the catalog file cannot be opened
            for path in ("/runs", "/drills", "/users", "/config"):
                r = c.get(path)
                assert r.status_code == 503, (path, r.status_code, r.text[:300])
                assert "catalog" in r.text and "Traceback" not in r.text
    finally:
        server.shutdown()
        ws.close()
