"""A corpus of Chaos Toolkit experiment files (tests/fixtures/chaostoolkit), each loaded and
run as ``chaos run`` would: python providers through chaostoolkit-lib, an empty method, a
steady state not met before, JSONPath filters, controls, a probe that raises. The counts are
the table in docs/runbooks.md."""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from drkit.catalog import Catalog
from drkit.catalog.runs import get_run
from drkit.runbooks.chaostoolkit.experiment import load_experiment
from drkit.runbooks.chaostoolkit.journal import ctk_journal
from drkit.runbooks.chaostoolkit.mapping import RollbackStrategy, to_runbook
from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.service import RunRequest, start_run
from drkit.settings.model import Settings

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "chaostoolkit"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "runbooks.md"
REPLICAS = {"a": {"up": True, "zone": "eu-1"}, "b": {"up": True, "zone": "eu-2"}, "c": {"up": True}}
STATE = {"status": "up", "replicas": REPLICAS}

# file: (status, deviated, method activities run, rollbacks run); "refused" when it does not load
EXPECTED: dict[str, tuple[str, bool, list[str], list[str]] | str] = {
    "01-process-hello.json": ("completed", False, ["do-nothing"], []),
    "02-process-regex.yaml": ("completed", False, ["list-root"], []),
    "03-python-replicas.json": ("completed", False, ["stop-replica-c"], ["start-replica-c"]),
    "04-python-jsonpath-filter.json": ("completed", False, [], []),
    "05-python-deviates.json": ("completed", True, ["stop-a", "stop-b"], ["start-a", "start-b"]),
    "06-not-met-before.yaml": ("completed", False, [], ["cleanup"]),  # as chaoslib plays them
    "07-controls-and-refs.json": ("completed", False, ["timed-action", "true-works"], []),
    "08-probe-raises.json": ("failed", False, [], []),
    "09-kubernetes-pod-kill.json": ("failed", False, [], []),  # chaosk8s not installed
    "10-http-health.json": ("completed", False, [], []),
    "11-bad-jsonpath.json": "refused",
    "12-no-method-key.json": "refused",
}


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "up"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The replicas' state file, the extension module importable, a health endpoint."""
    state = tmp_path / "state.json"
    state.write_text(json.dumps(STATE))
    monkeypatch.setenv("CTK_STATE_FILE", str(state))
    monkeypatch.syspath_prepend(str(CORPUS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CTK_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield state
    server.shutdown()


def _run(catalog: Catalog, path: Path) -> dict[str, Any]:
    loaded = load_experiment(path)
    book = to_runbook(loaded, RollbackStrategy.DEFAULT).runbook
    report = start_run(catalog, book, Settings(), RunRequest(poll_s=0.02))
    return ctk_journal(get_run(catalog, report.run_id), book, loaded.document)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_ends_as_chaos_run_ends_it(
    name: str, catalog: Catalog, world: Path
) -> None:
    expected = EXPECTED[name]
    if expected == "refused":
        with pytest.raises(RunbookInvalid):
            load_experiment(CORPUS / name)
        return
    status, deviated, method, rollbacks = expected
    journal = _run(catalog, CORPUS / name)
    assert (journal["status"], journal["deviated"]) == (status, deviated), journal
    assert [r["activity"]["name"] for r in journal["run"]] == method
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == rollbacks
    for stamp in (journal["start"], journal["end"]):
        assert datetime.fromisoformat(stamp).utcoffset() is not None  # +00:00, as chaoslib
    assert journal["chaoslib-version"][0].isdigit()


def test_python_providers_run_through_chaoslib_and_their_effects_are_real(
    catalog: Catalog, world: Path
) -> None:
    journal = _run(catalog, CORPUS / "05-python-deviates.json")
    after = journal["steady_states"]["after"]
    assert after["probes"][0]["output"] == 1 and after["probes"][0]["tolerance_met"] is False
    assert json.loads(world.read_text()) == STATE  # the rollbacks started a and b again
    raised = _run(catalog, CORPUS / "08-probe-raises.json")
    probe = raised["steady_states"]["before"]["probes"][0]
    assert probe["status"] == "failed" and "cannot reach" in probe["exception"][0]
    missing = _run(catalog, CORPUS / "09-kubernetes-pod-kill.json")
    error = missing["steady_states"]["before"]["probes"][0]["exception"][0]
    assert "chaosk8s" in error


def test_a_steady_state_not_met_before_skips_the_method_and_completes(
    catalog: Catalog, world: Path
) -> None:
    journal = _run(catalog, CORPUS / "06-not-met-before.yaml")
    assert journal["steady_states"]["before"]["steady_state_met"] is False
    assert journal["steady_states"]["after"] is None and journal["run"] == []
    assert journal["drkit"]["steady_state_met_before"] is False


def test_controls_are_named_in_warnings_and_bad_paths_refused_at_load() -> None:
    warnings = load_experiment(CORPUS / "07-controls-and-refs.json").warnings
    assert len(warnings) == 2
    assert "the experiment" in warnings[0] and "'timed-action'" in warnings[1]
    assert load_experiment(CORPUS / "01-process-hello.json").warnings == ()
    with pytest.raises(RunbookInvalid, match="does not parse"):
        load_experiment(CORPUS / "11-bad-jsonpath.json")  # before anything runs: a dry run too


def _uses_python(path: Path) -> bool:
    document = YAML(typ="safe").load(path.read_text())
    hypothesis = document.get("steady-state-hypothesis") or {}
    activities = [*hypothesis.get("probes", []), *document.get("method", [])]
    return any(a.get("provider", {}).get("type") == "python" for a in activities)


def test_the_docs_table_counts_the_corpus() -> None:
    outcomes = Counter(
        e if isinstance(e, str) else ("deviated" if e[1] else e[0]) for e in EXPECTED.values()
    )
    python = sum(_uses_python(CORPUS / n) for n in EXPECTED)
    loaded = len(EXPECTED) - outcomes["refused"]
    row = (
        f"| {len(EXPECTED)} | {loaded} | {python} | {outcomes['completed']} | "
        f"{outcomes['deviated']} | {outcomes['failed']} | {outcomes['refused']} |"
    )
    assert row in DOCS.read_text(), row
