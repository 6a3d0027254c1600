"""Listing and trying notifiers as operations: JSON shapes, an unbuildable one, a failed send."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.notify.errors import NotifierConfigError, NotifyError
from drkit.services import Workspace
from drkit.services.notifiers import TrialRequest, list_notifiers, try_notifiers
from tests.unit.services.repos import Recorder

CONFIG = """\
version: 1
notifiers:
  mem: {{type: memory}}
  hook: {{type: webhook, url: "http://127.0.0.1:{port}/hook"}}
  keyless: {{type: pagerduty, routing_key_env: DRKIT_TEST_NO_SUCH_KEY}}
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("DRKIT_TEST_NO_SUCH_KEY", raising=False)
    monkeypatch.setenv("DRKIT_HOME", str(tmp_path / "home"))
    config = tmp_path / "drkit.yaml"
    config.write_text(CONFIG.format(port=_closed_port()))
    return Workspace(config=config)


def test_the_listing_names_each_notifier_and_why_one_cannot_be_built(
    workspace: Workspace,
) -> None:
    doc = json.loads(json.dumps(list_notifiers(workspace).to_json()))
    assert [row["name"] for row in doc] == ["hook", "keyless", "mem"]
    assert set(doc[0]) == {"name", "type", "target", "ok", "problem"}
    by_name = {row["name"]: row for row in doc}
    assert by_name["mem"]["ok"] is True and by_name["hook"]["ok"] is True
    assert by_name["keyless"]["ok"] is False
    assert "DRKIT_TEST_NO_SUCH_KEY" in by_name["keyless"]["problem"]


def test_a_delivery_to_the_memory_notifier_and_its_resolution_pass(
    workspace: Workspace,
) -> None:
    progress = Recorder()
    result = try_notifiers(workspace, TrialRequest("mem", resolve=True), progress)
    assert result.failure() is None
    doc = json.loads(json.dumps(result.to_json(), default=str))
    assert [(d["action"], d["notifier"], d["ok"]) for d in doc] == [
        ("trigger", "mem", True),
        ("resolve", "mem", True),
    ]
    assert progress.phases == [
        "sending a test trigger to 1 notifier(s)",
        "sending a test resolve to 1 notifier(s)",
    ]


def test_a_refused_delivery_fails_the_trial_with_the_reason(workspace: Workspace) -> None:
    result = try_notifiers(workspace, TrialRequest("hook", retries=0, timeout_s=5))
    [one] = result.to_json()
    assert one["ok"] is False and one["error"]
    failure = result.failure()
    assert isinstance(failure, NotifyError) and failure.exit_code == 30 and failure.hint


def test_a_notifier_without_its_secret_is_a_config_error(workspace: Workspace) -> None:
    with pytest.raises(NotifierConfigError) as caught:
        try_notifiers(workspace, TrialRequest("keyless"))
    assert "DRKIT_TEST_NO_SUCH_KEY" in caught.value.message


def test_neither_a_name_nor_all_is_a_usage_error(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="name one notifier"):
        try_notifiers(workspace, TrialRequest())
