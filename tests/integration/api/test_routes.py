"""The API answers what the CLI's --json answers, changes are audited, faults are problems."""

from __future__ import annotations

import json
from typing import Any

from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.catalog.tables import AlertRow
from drkit.catalog.types import utcnow
from tests.integration.api.conftest import Api


def _without(doc: Any, key: str) -> Any:
    """``doc`` without ``key`` anywhere (ages move between two calls)."""
    if isinstance(doc, dict):
        return {k: _without(v, key) for k, v in doc.items() if k != key}
    if isinstance(doc, list):
        return [_without(v, key) for v in doc]
    return doc


def test_status_is_drkit_status_json(api: Api) -> None:
    r = api.get("/api/status", "viewer")
    assert r.status_code == 200
    cli = api.cli_json("status")
    assert _without(r.json(), "age_s") == _without(cli, "age_s")
    app = r.json()["app"][0]
    assert app["repositories"][0]["name"] == "local" and app["repositories"][0]["newest"]
    assert app["ok"] is False  # one copy on one site: 3-2-1 fails, and says so
    per_policy = api.get("/api/policies/app/status", "viewer").json()
    assert _without(per_policy, "age_s") == _without(cli["app"], "age_s")


def test_snapshots_runs_jobs_alerts_and_users_are_the_clis_json(api: Api) -> None:
    journal = RunJournal.start(api.catalog(), kind="check", subject="local")
    step = journal.begin_step("check local")
    journal.end_step(step, StepStatus.SUCCEEDED, output="no errors")
    journal.finish(RunStatus.SUCCEEDED)
    pairs = {
        "/api/repositories/local/snapshots": ("--repo", "local", "snapshots"),
        "/api/runs": ("runs",),
        f"/api/runs/{journal.run_id}": ("runs", "show", str(journal.run_id)),
        "/api/jobs": ("jobs",),
        "/api/alerts": ("alerts",),
    }
    for path, argv in pairs.items():
        r = api.get(path, "viewer")
        assert r.status_code == 200, (path, r.text)
        assert r.json() == api.cli_json(*argv), path
    run = api.get(f"/api/runs/{journal.run_id}", "viewer").json()
    assert [s["name"] for s in run["steps"]] == ["check local"]
    assert api.get("/api/users", "admin").json() == api.cli_json("user", "list")
    snaps = api.get("/api/repositories/local/snapshots", "viewer").json()
    assert len(snaps) == 1 and snaps[0]["complete"] is True


def test_policies_and_repositories_show_no_secret(api: Api) -> None:
    policies = api.get("/api/policies", "viewer").json()
    assert [(p["name"], p["repositories"], p["rpo_s"]) for p in policies] == [
        ("app", ["local"], 86400.0)
    ]
    repos = api.get("/api/repositories", "viewer").json()
    assert repos[0]["name"] == "local" and repos[0]["site"] == "office"
    assert "password" not in json.dumps(repos) and "pw" not in {str(v) for v in repos[0].values()}
    missing = api.get("/api/policies/nope", "viewer")
    assert missing.status_code == 400 and missing.json()["hint"].startswith("defined in")


def test_an_admin_manages_a_users_tokens_and_a_revoked_one_stops_working(api: Api) -> None:
    with api.client("admin") as admin:
        made = admin.post(
            "/api/users/viewer/tokens", json={"label": "script", "permissions": ["view"]}
        )
        assert made.status_code == 201, made.text
        secret = made.json()["token"]
        wide = admin.post("/api/users/viewer/tokens", json={"permissions": ["failover"]})
        assert wide.status_code == 400 and wide.json()["code"] == "token-too-wide"
        listed = admin.get("/api/users/viewer/tokens").json()
        assert made.json()["id"] in {t["id"] for t in listed}
        assert all("token" not in t for t in listed)
    with_new = {"Authorization": f"Bearer {secret}"}
    with api.client() as anyone:
        assert anyone.get("/api/me", headers=with_new).json()["user"] == "viewer"
    with api.client("admin") as admin:
        gone = admin.delete(f"/api/users/viewer/tokens/{made.json()['id']}")
        assert gone.status_code == 200 and gone.json()["state"] == "revoked"
    with api.client() as anyone:
        assert anyone.get("/api/me", headers=with_new).status_code == 401
    log = api.get("/api/audit", "admin", params={"action": "token."}).json()
    assert [(e["actor"], e["action"], e["outcome"]) for e in log[:3]] == [
        ("admin", "token.revoke", "ok"),
        ("admin", "token.add", "failed"),
        ("admin", "token.add", "ok"),
    ]
    assert log[0]["via"].startswith("token:") and log[0]["origin"] == "127.0.0.1"


def test_a_callers_own_token_is_never_wider_than_the_request(api: Api) -> None:
    with api.client("narrow") as narrow:  # an admin's token carrying only view
        r = narrow.post("/api/me/tokens", json={"permissions": ["manage-users"]})
        assert r.status_code == 400 and r.json()["code"] == "token-too-wide"
        r = narrow.post("/api/me/tokens", json={"label": "child"})
        assert r.status_code == 201 and r.json()["permissions"] == ["view"]


def test_users_changed_through_the_api_are_versioned_and_audited(api: Api) -> None:
    with api.client("admin") as admin:
        added = admin.post(
            "/api/users", json={"name": "erin", "password": "a long password", "grants": ["viewer"]}
        )
        assert added.status_code == 201 and added.json()["roles"] == ["viewer"]
        again = admin.post("/api/users", json={"name": "erin", "password": "a long password"})
        assert again.status_code == 409 and again.json()["code"] == "user-exists"
        short = admin.post("/api/users", json={"name": "fay", "password": "short"})
        assert short.status_code == 400 and "too short" in short.json()["detail"]
        granted = admin.post("/api/users/erin/grant", json={"grants": ["operator"]})
        assert granted.json()["changed"] == ["operator"]
        assert admin.delete("/api/users/erin").status_code == 204
        assert admin.get("/api/users/erin").status_code == 404
    versions = api.get("/api/config/log", "viewer", params={"path": "drkit"}).json()
    assert [(v["author"], v["message"]) for v in versions[:3]] == [
        ("admin", "user erin removed"),
        ("admin", "user erin granted operator"),
        ("admin", "user erin added (granted viewer)"),
    ]
    newest, older = versions[0]["id"], versions[2]["id"]
    diff = api.get("/api/config/diff", "viewer", params={"old": older, "new": newest})
    assert diff.status_code == 200
    assert diff.json() == api.cli_json("config", "diff", str(older), str(newest))
    html = api.get("/api/config/diff.html", "viewer", params={"old": older, "new": newest})
    assert html.status_code == 200 and "<table" in html.text
    shown = api.get("/api/config/show", "viewer", params={"version": newest})
    assert shown.json() == api.cli_json("config", "show", str(newest))
    bad = api.get("/api/config/show", "viewer", params={"version": "someday soon"})
    assert bad.status_code == 400 and bad.json()["code"] == "config-bad-reference"


def test_an_operator_acknowledges_an_alert_and_repeats_stop(api: Api) -> None:
    now = utcnow()
    with api.catalog().session() as s:
        row = AlertRow(
            dedup_key="rpo:app:local",
            status="open",
            severity="critical",
            summary="app in local is older than its RPO",
            source="app/local",
            details_json="[]",
            first_seen=now,
            last_seen=now,
            notify_count=1,
        )
        s.add(row)
        s.flush()
        alert_id = row.id
    with api.client("viewer") as viewer:
        assert viewer.post(f"/api/alerts/{alert_id}/acknowledge", json={}).status_code == 403
    with api.client("operator") as operator:
        r = operator.post(f"/api/alerts/{alert_id}/acknowledge", json={"comment": "on it"})
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "operator"
        missing = operator.post("/api/alerts/999999/acknowledge", json={})
        assert missing.status_code == 404 and missing.json()["code"] == "alert-not-found"
    listed = {a["id"]: a for a in api.get("/api/alerts", "viewer").json()}
    assert listed[alert_id]["ack_comment"] == "on it"
    assert api.cli_json("alerts") == list(listed.values())
    log = api.get("/api/audit", "admin", params={"action": "alert."}).json()
    assert [(e["actor"], e["target"], e["outcome"]) for e in log[:2]] == [
        ("operator", "999999", "failed"),
        ("operator", str(alert_id), "ok"),
    ]


def test_openapi_docs_metrics_and_health_are_served_from_the_package(api: Api) -> None:
    doc = api.get("/api/openapi.json", "anonymous").json()
    assert doc["paths"]["/api/status"]["get"]["x-drkit-permission"] == "view"
    assert doc["paths"]["/api/users"]["post"]["x-drkit-permission"] == "manage-users"
    page = api.get("/api/docs", "anonymous")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
    assert "https://" not in page.text and "<script src" not in page.text  # nothing external
    assert api.get("/healthz", "anonymous").text == "ok\n"
    assert api.get("/metrics", "anonymous").status_code == 200
    nothing = api.get("/api/nothing-here", "viewer")
    assert nothing.status_code == 404 and nothing.json()["code"] == "no-such-route"
    invalid = api.get("/api/runs", "viewer", params={"limit": "lots"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid-request"
