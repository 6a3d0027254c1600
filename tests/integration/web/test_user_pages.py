"""Users, tokens and the audit log in the dashboard; each token is tried against the real API."""

from __future__ import annotations

import html
import re

import httpx

from drkit.users.audit import entries
from tests.integration.api.conftest import Api
from tests.integration.web.conftest import csrf_of, signed_in


def _secret(page: httpx.Response) -> tuple[str, str]:
    found = re.search(
        r"New token (\w+).*?<code class=\"token-secret\">([^<]+)</code>", page.text, re.S
    )
    assert found, page.text[-1500:]
    return found.group(1), found.group(2)


def _made(c: httpx.Client, url: str, data: dict[str, object]) -> httpx.Response:
    """Post a new-token form: it redirects to the page showing the secret (once)."""
    r = c.post(url, data=data)
    assert r.status_code == 303, r.text[-1500:]
    shown = c.get(r.headers["location"])
    assert shown.headers["cache-control"] == "no-store"
    again = c.get(r.headers["location"])
    assert "token-secret" in shown.text and "token-secret" not in again.text  # once
    return shown


def _me(site: Api, secret: str) -> httpx.Response:
    return httpx.get(f"{site.url}/api/me", headers={"Authorization": f"Bearer {secret}"})


def test_an_admin_creates_a_token_shown_once_and_revokes_it(site: Api) -> None:
    with signed_in(site, "ada") as c:
        listing = c.get("/users")
        assert listing.status_code == 200
        assert {'href="/users/dana"', 'href="/users/olga"'} <= set(
            re.findall(r'href="/users/\w+"', listing.text)
        )
        page = c.get("/users/dana")
        form = {"csrf": csrf_of(page), "label": "ci", "expires": "30d", "permissions": ["view"]}
        made = _made(c, "/users/dana/tokens", form)
        token_id, secret = _secret(made)
        me = _me(site, secret)
        assert me.status_code == 200 and me.json()["user"] == "dana"
        assert me.json()["permissions"] == ["view"]
        again = c.get("/users/dana")
        assert secret not in again.text and f"<code>{token_id}</code>" in again.text  # shown once

        forged = c.post(f"/users/dana/tokens/{token_id}/revoke", data={"csrf": "forged"})
        assert forged.status_code == 400 and _me(site, secret).status_code == 200
        revoked = c.post(f"/users/dana/tokens/{token_id}/revoke", data={"csrf": csrf_of(again)})
        assert revoked.status_code == 303 and revoked.headers["location"] == "/users/dana"
        assert _me(site, secret).status_code == 401
        assert re.search(rf'<tr class="revoked" id="token-{token_id}">', c.get("/users/dana").text)

        bad = c.post("/users/dana/tokens", data={**form, "expires": "last tuesday"})
        assert bad.status_code == 400 and "is not an expiry drkit knows" in html.unescape(bad.text)
        log = c.get("/audit", params={"action": "token."})
        assert log.status_code == 200
        rows = re.findall(r"<td>(token\.\w+)</td><td>([^<]*)</td><td>(\w+)</td>", log.text)
        assert rows[:2] == [("token.revoke", token_id, "ok"), ("token.add", "dana", "ok")]
        assert "web.login" not in log.text and "web.login" in c.get("/audit").text
    with site.catalog().session() as s:
        mine = entries(s, actor="ada", action="token.")
    assert {e.via for e in mine} == {"session"}


def test_a_viewer_has_only_their_own_tokens_never_wider_than_themselves(site: Api) -> None:
    with signed_in(site, "dana") as c:
        assert c.get("/users").status_code == 403 and c.get("/audit").status_code == 403
        page = c.get("/tokens")
        assert page.status_code == 200 and 'href="/users"' not in page.text
        csrf = csrf_of(page)
        wide = c.post("/tokens", data={"csrf": csrf, "permissions": ["manage-users"]})
        assert wide.status_code == 400 and "manage-users" in wide.text
        made = _made(c, "/tokens", {"csrf": csrf, "label": "laptop"})
        token_id, secret = _secret(made)
        assert _me(site, secret).json()["permissions"] == ["view"]
        refused = c.post(f"/users/dana/tokens/{token_id}/revoke", data={"csrf": csrf})
        assert refused.status_code == 403 and _me(site, secret).status_code == 200
        done = c.post(f"/tokens/{token_id}/revoke", data={"csrf": csrf})
        assert done.status_code == 303 and _me(site, secret).status_code == 401
    with site.catalog().session() as s:
        denied = entries(s, actor="dana", action="api.denied")
    assert denied and denied[0].target == f"POST /users/dana/tokens/{token_id}/revoke"


def test_no_one_revokes_another_users_token_through_their_own_page(site: Api) -> None:
    with signed_in(site, "ada") as admin:
        page = admin.get("/users/olga")
        made = _made(admin, "/users/olga/tokens", {"csrf": csrf_of(page)})
        token_id, secret = _secret(made)
    with signed_in(site, "dana") as c:
        r = c.post(f"/tokens/{token_id}/revoke", data={"csrf": csrf_of(c.get("/tokens"))})
        assert r.status_code == 404 and _me(site, secret).status_code == 200


def test_a_new_tokens_secret_is_for_the_session_that_made_it_only(site: Api) -> None:
    with signed_in(site, "ada") as admin:
        r = admin.post("/users/dana/tokens", data={"csrf": csrf_of(admin.get("/users/dana"))})
        where = r.headers["location"]
        with signed_in(site, "ada") as other:  # the same user, another session
            assert "token-secret" not in other.get(where).text
        assert "token-secret" in admin.get(where).text
