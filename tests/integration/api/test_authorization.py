"""Every route of the app, against every kind of caller: the table is built from app.routes,
so a route added without a permission rule (a ``Require``) fails here."""

from __future__ import annotations

import re

import pytest

from drkit.api import create_app
from drkit.api.app import PUBLIC, api_routes
from drkit.api.auth import requirement
from drkit.web import install as dashboard
from drkit.web.pages import PageRequire
from tests.integration.api.conftest import CALLERS, Api

# a value for each path parameter: things that may or may not exist, never something to lose
SAMPLES = {
    "name": "nobody",
    "run_id": "1",
    "alert_id": "1",
    "token_id": "0123456789ab",
    "step": "go",
    "version": "0123abcd",
    "job_id": "nobody",
}


def _routes(api: Api, *, pages: bool = False) -> list[tuple[str, str, str | None]]:
    """(method, path, the permission it needs or None for a public one) for every route;
    the dashboard's pages (a session, never a token) with ``pages``, the API's without."""
    table = []
    for path, method, route in api_routes(create_app(api.workspace, mount=[dashboard])):
        needed = requirement(route)
        if needed is None:
            assert path in PUBLIC, f"{method} {path} names no permission (give it a Require)"
        if isinstance(needed, PageRequire) == pages:
            table.append((method, path, needed.name if needed else None))
    return table


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def test_every_route_names_a_permission_and_public_routes_are_few(api: Api) -> None:
    table = _routes(api)
    assert len(table) >= 25
    assert {p for _, p, needed in table if needed is None} <= set(PUBLIC)
    assert {p for _, p, _ in table} >= set(PUBLIC) - {"/api/openapi.json"}


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_the_authorization_table(api: Api, caller: str) -> None:
    have = CALLERS[caller]
    failures = []
    with api.client(caller) as client:
        for method, path, needed in _routes(api):
            if needed is None:
                continue
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = client.request(method, _url(path), json=body)
            if have is None:
                want = "401"
                ok = r.status_code == 401
            elif needed == "authenticated" or needed in have:
                want = "allowed (not 401/403, no 5xx)"
                ok = r.status_code not in (401, 403) and r.status_code < 500
            else:
                want = "403"
                ok = r.status_code == 403
            if ok and r.status_code >= 400:
                ok = r.headers["content-type"].startswith("application/problem+json")
            if not ok:
                failures.append(
                    f"{caller} {method} {path}: {r.status_code}, wanted {want}: {r.text[:200]}"
                )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_the_dashboards_pages_take_no_token(api: Api, caller: str) -> None:
    pages = _routes(api, pages=True)
    assert {p for _, p, _ in pages} >= {"/", "/runs", "/config", "/logout"}
    with api.client(caller) as client:
        for method, path, _needed in pages:
            r = client.request(method, _url(path), data={"csrf": "x"}, follow_redirects=False)
            assert (r.status_code, r.headers.get("location")) == (303, "/login"), (method, path)


def test_no_existence_oracle(api: Api) -> None:
    """A caller without the permission learns nothing of what exists."""
    there, missing = api.get("/api/users/admin", "viewer"), api.get("/api/users/nobody", "viewer")
    assert there.status_code == missing.status_code == 403
    assert there.json()["detail"] == missing.json()["detail"]
    a, b = api.get("/api/runs/1", "anonymous"), api.get("/api/runs/999999", "anonymous")
    assert a.status_code == b.status_code == 401 and a.json()["detail"] == b.json()["detail"]
    assert a.headers["www-authenticate"].startswith("Bearer")


def test_a_narrower_token_than_its_user_is_held_to_its_own_permissions(api: Api) -> None:
    assert api.get("/api/users", "admin").status_code == 200
    narrow = api.get("/api/users", "narrow")
    assert narrow.status_code == 403 and narrow.json()["code"] == "not-permitted"
    me = api.get("/api/me", "narrow").json()
    assert me == {"user": "admin", "via": me["via"], "permissions": ["view"]}


def test_refused_changes_are_audited_as_denied(api: Api) -> None:
    with api.client("viewer") as c:
        assert c.post("/api/users", json={"name": "eve", "password": "x" * 10}).status_code == 403
    with api.client("anonymous") as c:
        assert c.delete("/api/users/admin").status_code == 401
    log = api.get("/api/audit", "admin", params={"action": "api.denied"}).json()
    seen = {(e["actor"], e["target"], e["outcome"]) for e in log}
    assert ("viewer", "POST /api/users", "denied") in seen
    assert ("anonymous", "DELETE /api/users/admin", "denied") in seen
