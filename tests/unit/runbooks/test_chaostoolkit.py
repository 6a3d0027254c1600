"""Chaos Toolkit: tolerances, the mapping of an experiment onto steps, rollback strategies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drkit.runbooks.chaostoolkit import python_provider
from drkit.runbooks.chaostoolkit.experiment import load_experiment
from drkit.runbooks.chaostoolkit.mapping import RollbackStrategy, to_runbook
from drkit.runbooks.chaostoolkit.tolerance import within_tolerance
from drkit.runbooks.errors import RunbookInvalid

PROCESS = {"status": 0, "stdout": "all ok\n", "stderr": ""}
HTTP = {"status": 200, "headers": {}, "body": {"state": "up", "items": [{"n": 3}]}}


@pytest.mark.parametrize(
    ("tolerance", "value", "expected"),
    [
        (True, True, True),
        (True, False, False),
        ("ok", "ok", True),
        (0, PROCESS, True),
        (1, PROCESS, False),
        (200, HTTP, True),
        ([200, 201], {"status": 201}, True),
        ([200, 204], {"status": 203}, False),  # a status is looked up in the list (chaoslib)
        ([1, 5], 3, True),  # two numbers and a plain value: a range
        ([200, 201, 204], {"status": 203}, False),
        ({"type": "regex", "pattern": "ok$", "target": "stdout"}, PROCESS, True),
        ({"type": "regex", "pattern": "^fail", "target": "stdout"}, PROCESS, False),
        ({"type": "jsonpath", "path": "$.state", "expect": "up", "target": "body"}, HTTP, True),
        ({"type": "jsonpath", "path": "$.items[0].n", "expect": [3], "target": "body"}, HTTP, True),
        ({"type": "jsonpath", "path": "$.state", "expect": "down", "target": "body"}, HTTP, False),
        ({"type": "jsonpath", "path": "$.missing", "target": "body"}, HTTP, False),
        (
            {"type": "jsonpath", "path": "$.foo.*[?(@.baz)].baz", "expect": [1, 2]},
            {"foo": {"x": [{"baz": 1}, {"q": 0}], "y": [{"baz": 2}]}},
            True,
        ),  # filters, as documented
        ({"type": "jsonpath", "path": "$.items[*].n", "count": 1, "target": "body"}, HTTP, True),
        ({"type": "range", "range": [1, 5], "target": "status"}, {"status": 3}, True),
        ({"type": "range", "range": [1, 5]}, "7", False),
    ],
)
def test_tolerances_follow_chaos_toolkit(tolerance: Any, value: Any, expected: bool) -> None:
    assert within_tolerance(tolerance, value) is expected


def _experiment(tmp_path: Path, **extra: Any) -> Path:
    probe = {
        "type": "probe",
        "name": "app answers",
        "tolerance": 200,
        "provider": {"type": "http", "url": "${base}/health", "timeout": 3},
    }
    document = {
        "version": "1.0.0",
        "title": "App survives a restart",
        "description": "Restart the app; it must come back.",
        "tags": ["app"],
        "configuration": {"base": "http://127.0.0.1:9"},
        "steady-state-hypothesis": {
            "title": "App is up",
            "probes": [probe, {**probe, "name": "second"}],
        },
        "method": [
            {"type": "action", "name": "restart", "provider": {"type": "process", "path": "true"}},
            {"ref": "app answers"},
        ],
        "rollbacks": [
            {"type": "action", "name": "undo", "provider": {"type": "process", "path": "true"}}
        ],
        **extra,
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(document))
    return path


def test_an_experiment_maps_onto_gated_steps(tmp_path: Path) -> None:
    loaded = to_runbook(load_experiment(_experiment(tmp_path)), RollbackStrategy.DEFAULT)
    book = loaded.runbook
    assert book.name == "chaos-app-survives-a-restart"
    ids = [s.id for s in book.steps]
    assert ids == [
        "before-1-app-answers",
        "before-2-second",
        "method-1-restart",
        "method-2-app-answers",
        "after-1-app-answers",
        "after-2-second",
        "rollback-1-undo",
    ]
    held = "steps.before-2-second.outputs.tolerance_met == 'true'"
    steps = {s.id: s for s in book.steps}
    assert steps["before-1-app-answers"].when is None
    assert (
        steps["before-2-second"].when
        == "steps.before-1-app-answers.outputs.tolerance_met == 'true'"
    )
    assert steps["method-1-restart"].when == held
    assert steps["method-2-app-answers"].with_["activity"]["name"] == "app answers"  # ref resolved
    probes = ["before-1-app-answers", "before-2-second", "after-1-app-answers", "after-2-second"]
    assert steps["rollback-1-undo"].when == " and ".join(  # unless a probe raised (chaoslib)
        f"steps.{p}.status != 'failed'" for p in probes
    )
    assert all(s.on_failure == "continue" for s in book.steps)
    assert steps["before-1-app-answers"].with_["configuration"] == {"base": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("strategy", "when"),
    [
        (RollbackStrategy.ALWAYS, None),
        (
            RollbackStrategy.DEVIATED,
            "and not (steps.after-2-second.outputs.tolerance_met == 'true')",
        ),
    ],
)
def test_rollback_strategies(tmp_path: Path, strategy: RollbackStrategy, when: str | None) -> None:
    book = to_runbook(load_experiment(_experiment(tmp_path)), strategy).runbook
    rollback = book.steps[-1]
    assert rollback.id == "rollback-1-undo"
    if when is None:
        assert rollback.when is None
    else:
        assert rollback.when is not None and rollback.when.endswith(when)
    never = to_runbook(load_experiment(_experiment(tmp_path)), RollbackStrategy.NEVER).runbook
    assert not any(s.id.startswith("rollback") for s in never.steps)


def test_python_providers_need_chaoslib_and_bad_refs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = {
        "type": "action",
        "name": "py",
        "provider": {"type": "python", "module": "m", "func": "f"},
    }
    assert load_experiment(_experiment(tmp_path, method=[python])).experiment.method
    without_func = {**python, "provider": {"type": "python", "module": "m"}}
    with pytest.raises(RunbookInvalid, match="needs 'module' and 'func'"):
        load_experiment(_experiment(tmp_path, method=[without_func]))
    monkeypatch.setattr(python_provider, "available", lambda: False)
    with pytest.raises(RunbookInvalid, match="chaostoolkit-lib") as refused:
        load_experiment(_experiment(tmp_path, method=[python]))
    assert refused.value.hint is not None and "drkit[chaos]" in refused.value.hint
    with pytest.raises(RunbookInvalid, match="ref 'nope' names no activity"):
        load_experiment(_experiment(tmp_path, method=[{"ref": "nope"}]))
    assert load_experiment(_experiment(tmp_path, method=[])).experiment.method == []


def test_configuration_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_BASE", "http://10.9.9.9")
    config = {"base": {"type": "env", "key": "APP_BASE"}}
    loaded = load_experiment(_experiment(tmp_path, configuration=config))
    assert loaded.experiment.resolved_configuration() == {"base": "http://10.9.9.9"}
    monkeypatch.delenv("APP_BASE")
    with pytest.raises(RunbookInvalid, match=r"reads \$APP_BASE, which is not set"):
        loaded.experiment.resolved_configuration()
