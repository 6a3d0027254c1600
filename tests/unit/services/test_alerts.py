"""The open alerts as an operation: the JSON shape of `drkit alerts --json`, resolved ones gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drkit.monitor.alerts import reconcile
from drkit.monitor.rules import Condition
from drkit.notify.base import Severity
from drkit.services import Workspace
from drkit.services.alerts import open_alert_list

RPO = Condition("rpo:web:nas", Severity.CRITICAL, "web: RPO missed in nas", "drkit monitor")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("DRKIT_HOME", str(tmp_path / "home"))
    config = tmp_path / "drkit.yaml"
    config.write_text("version: 1\n")
    return Workspace(config=config)


def _reconcile(ws: Workspace, conditions: list[Condition]) -> None:
    reconcile(
        ws.catalog(),
        conditions,
        datetime.now(UTC) - timedelta(minutes=5),
        repeat_interval=timedelta(hours=1),
        send=lambda _: [],
    )


def test_an_open_alert_is_listed_in_the_api_shape_and_a_resolved_one_is_not(
    workspace: Workspace,
) -> None:
    assert open_alert_list(workspace).to_json() == []
    _reconcile(workspace, [RPO])
    listing = open_alert_list(workspace)
    [doc] = json.loads(json.dumps(listing.to_json(), default=str))
    assert doc["key"] == "rpo:web:nas" and doc["severity"] == "critical"
    assert doc["summary"] == "web: RPO missed in nas"
    assert {"id", "key", "severity", "summary", "source"} <= set(doc)
    _reconcile(workspace, [])
    assert open_alert_list(workspace).alerts == []
