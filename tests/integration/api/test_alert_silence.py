"""Silencing an alert through the API: shown as silenced, audited, ended on request."""

from __future__ import annotations

from drkit.catalog.tables import AlertRow
from drkit.catalog.types import utcnow
from tests.integration.api.conftest import Api


def _open_alert(api: Api, key: str) -> int:
    now = utcnow()
    with api.catalog().session() as s:
        row = AlertRow(
            dedup_key=key,
            status="open",
            severity="warning",
            summary=f"{key} is late",
            source="app/local",
            details_json="[]",
            first_seen=now,
            last_seen=now,
            notify_count=1,
        )
        s.add(row)
        s.flush()
        return row.id


def test_an_operator_silences_an_alert_for_a_time_with_a_reason(api: Api) -> None:
    alert_id = _open_alert(api, "rpo:silence:local")
    body = {"duration": "2h", "reason": "disk swap tonight"}
    with api.client("viewer") as viewer:
        assert viewer.post(f"/api/alerts/{alert_id}/silence", json=body).status_code == 403
    with api.client("operator") as op:
        r = op.post(f"/api/alerts/{alert_id}/silence", json=body)
        assert r.status_code == 200, r.text
        bad = op.post(f"/api/alerts/{alert_id}/silence", json={**body, "duration": "soon"})
        missing = op.post("/api/alerts/999999/silence", json=body)
    doc = r.json()
    assert doc["silenced"] is True and doc["silenced_by"] == "operator"
    assert doc["silence_reason"] == "disk swap tonight" and doc["silenced_until"]
    assert bad.status_code == 400 and "30s, 15m" in bad.json()["hint"]
    assert missing.status_code == 404 and missing.json()["code"] == "alert-not-found"
    listed = {a["id"]: a for a in api.get("/api/alerts", "viewer").json()}
    assert listed[alert_id]["silenced"] is True
    cli = {a["id"]: a for a in api.cli_json("alerts")}
    assert cli[alert_id]["silenced"] is True  # the CLI shows the same alert as silenced
    audit = api.get("/api/audit", "admin", params={"action": "alert.silence"}).json()
    assert any(
        e["actor"] == "operator" and e["target"].startswith(f"{alert_id} for 2h")
        for e in audit
        if e["outcome"] == "ok"
    )
    with api.client("operator") as op:
        ended = op.delete(f"/api/alerts/{alert_id}/silence")
        again = op.delete(f"/api/alerts/{alert_id}/silence")
    assert ended.status_code == 200 and ended.json()["silenced"] is False
    assert again.status_code == 404
