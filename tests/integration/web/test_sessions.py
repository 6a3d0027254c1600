"""Sign-in, CSRF, session fixation, logout and throttling, over HTTP against the real server."""

from __future__ import annotations

import re

import httpx

from drkit.users.audit import entries
from tests.integration.api.conftest import Api
from tests.integration.web.conftest import PASSWORD


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _sign_in(c: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    form = c.get("/login")
    return c.post("/login", data={"username": user, "password": password, "csrf": _csrf(form)})


def test_sign_in_sets_a_safe_cookie_and_logout_ends_the_session_server_side(site: Api) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as c:
        assert c.get("/").headers["location"] == "/login"
        r = _sign_in(c, "dana")
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        session = c.cookies["drkit_session"]
        page = c.get("/")
        assert page.status_code == 200 and "3-2-1 FAILING" in page.text and "dana" in page.text
        assert c.get("/runs").status_code == 200 and c.get("/config").status_code == 200
        assert c.post("/logout", data={"csrf": "forged"}).status_code == 400  # CSRF refused
        assert c.get("/").status_code == 200  # still signed in
        r = c.post("/logout", data={"csrf": _csrf(page)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    with httpx.Client(base_url=site.url, timeout=30, cookies={"drkit_session": session}) as old:
        assert old.get("/").status_code == 303  # the old cookie is dead on the server too


def test_login_needs_its_csrf_token(site: Api) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as c:
        c.get("/login")
        r = c.post("/login", data={"username": "dana", "password": PASSWORD, "csrf": "guess"})
        assert r.status_code == 400 and "drkit_session" not in c.cookies


def test_a_planted_session_id_is_never_adopted(site: Api) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as c:
        c.cookies.set("drkit_session", "chosen-by-the-attacker", domain="127.0.0.1")
        _sign_in(c, "dana")
        assert c.cookies["drkit_session"] != "chosen-by-the-attacker"
    with httpx.Client(base_url=site.url, timeout=30) as first:
        _sign_in(first, "dana")
        before = first.cookies["drkit_session"]
        _sign_in(first, "dana")  # signing in again gives a new id and ends the old one
        assert first.cookies["drkit_session"] != before
    with httpx.Client(base_url=site.url, timeout=30, cookies={"drkit_session": before}) as old:
        assert old.get("/").status_code == 303


def test_pages_forbid_scripts_frames_and_caching(site: Api) -> None:
    # (before the throttling test: that one blocks sign-ins from 127.0.0.1 for a while)
    with httpx.Client(base_url=site.url, timeout=30) as c:
        pages = [c.get("/login"), _sign_in(c, "dana"), c.get("/"), c.get("/config")]
    for r in pages[:1] + pages[2:]:
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp  # none at all: default-src 'none' covers it
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_failed_sign_ins_are_throttled_and_audited(site: Api) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as c:
        codes = [_sign_in(c, "olga", "wrong password").status_code for _ in range(5)]
        assert codes == [401] * 5
        blocked = _sign_in(c, "olga")  # the right password, but too soon
        assert blocked.status_code == 429 and "wait" in blocked.text
        assert "drkit_session" not in c.cookies
    with site.catalog().session() as s:
        log = entries(s, action="web.login", actor="olga")
    assert [e.outcome.value for e in log[:6]] == ["denied"] + ["failed"] * 5
