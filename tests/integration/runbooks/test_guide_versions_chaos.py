# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""The CLI around runbooks: versions (log, diff, show --version), the guide (Markdown and
HTML) with expected durations, stats; a Chaos Toolkit experiment run end to end against a
local HTTP service, with its journal in Chaos Toolkit's format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.runbooks.cli import Drkit, drkit_cli, wait_until  # noqa: F401

BOOK = """
name: failover-app
description: Move the **app** to site B.
rto: 1h
inputs:
  site: {default: b, description: the site to fail over to}
steps:
  - id: detect
    name: Detect that site A is down
    description: Site A must not answer.
    action: shell
    with: {command: "echo down"}
    timeout: 30s
  - id: approve
    name: Confirm the failover
    manual: {prompt: "Fail over to ${{ inputs.site }}?", approvers: [alice]}
  - id: start
    name: Start the apps
    parallel:
      - {id: app1, action: shell, with: {command: "echo app1"}}
      - {id: app2, action: shell, with: {command: "echo app2"}}
    on_failure: rollback
    rollback: [{id: stop-apps, action: shell, with: {command: "echo stop"}}]
"""


def test_versions_are_logged_diffed_and_shown(drkit_cli: Drkit, tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    drkit_cli.save(path, "name: v\nsteps: [{id: a, action: shell, with: {command: 'echo 1'}}]\n")
    book = drkit_cli.home / "runbooks" / "v.yaml"
    book.write_text("name: v\nsteps: [{id: a, action: shell, with: {command: 'echo 2'}}]\n")
    drkit_cli.ok("runbook", "list")  # seen changed: recorded
    log = drkit_cli.json("runbook", "log", "v")
    assert [entry["author"] for entry in log] == ["tester", "tester"]
    new, old = log[0]["version"], log[1]["version"]
    diff = drkit_cli.ok("runbook", "diff", "v", old[:7], new)
    assert "-steps: [{id: a, action: shell, with: {command: 'echo 1'}}]" in diff
    assert "+steps: [{id: a, action: shell, with: {command: 'echo 2'}}]" in diff
    shown = drkit_cli.json("runbook", "show", "v", "--version", old)
    assert shown["version"] == old and "echo 1" in shown["content"]
    run = drkit_cli.json("runbook", "run", "v")
    assert run["version"] == new  # the run records the version it ran
    missing = drkit_cli("runbook", "show", "v", "--version", "ffffffff")
    assert missing.returncode == 60 and "has no version" in missing.stderr


def test_the_guide_numbers_steps_marks_manual_ones_and_shows_durations(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    drkit_cli.save(tmp_path / "failover-app.yaml", BOOK.replace(", approvers: [alice]", ""))
    runner = drkit_cli.background("runbook", "run", "failover-app")
    run_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
    drkit_cli.approve(run_id, "approve", "alice")
    assert runner.wait(60) == 0
    html_file, md_file = tmp_path / "guide.html", tmp_path / "guide.md"
    drkit_cli.ok("runbook", "guide", "failover-app", "--html", str(html_file),
                 "--markdown", str(md_file))  # fmt: skip
    text = md_file.read_text()
    assert text.startswith("# Runbook: failover-app\n")
    assert "RTO target: **1h**" in text and "(median of 1 full run)" in text
    assert "### 1. Detect that site A is down" in text
    assert "### 2. Confirm the failover — MANUAL STEP" in text
    assert "> **MANUAL STEP:** Fail over to ${{ inputs.site }}?" in text
    assert text.isascii() or all(ord(c) < 0x2600 for c in text)  # no emoji: shows without a font
    assert "#### 3.1. app1" in text and "#### 3.2. app2" in text
    assert "- 3.R1. stop-apps:" in text
    assert "`detect` · expected " in text and "timeout 30s" in text
    assert "| `site` | `b` | the site to fail over to |" in text
    page = html_file.read_text()
    assert page.startswith("<!doctype html>") and "<h3>2. Confirm the failover" in page
    assert "<blockquote>" in page and "<table>" in page
    printed = drkit_cli.ok("runbook", "guide", "failover-app")  # not a terminal: Markdown
    assert printed == text
    stats = drkit_cli.json("runbook", "stats", "failover-app")
    assert stats["rto_s"] == 3600 and len(stats["runs"]) == 1
    assert set(stats["runs"][0]["steps"]) >= {"detect", "approve", "start", "app1", "app2"}
    assert stats["runs"][0]["rto_met"] is True


def _waiting(drkit_cli: Drkit) -> int | None:
    run_id = drkit_cli.latest_run()
    if run_id is None:
        return None
    steps = drkit_cli.run_view(run_id)["steps"]
    return run_id if steps and steps[-1]["status"] == "waiting" else None


def test_validate_reports_every_problem_with_file_and_line(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - id: a\n    action: nope\n  - id: a\n    action: shell\n")
    good = tmp_path / "good.yaml"
    good.write_text(BOOK)
    done = drkit_cli("runbook", "validate", str(good), str(bad))
    assert done.returncode == 60
    assert f"{good}: valid (version " in done.stdout
    assert f"{bad}:4: steps[0].action: unknown action 'nope'" in done.stdout
    assert f"{bad}:5: steps[1].id: step id 'a' is used twice" in done.stdout
    assert f"{bad}:5: steps[1].with.command: required key is missing" in done.stdout
    (drkit_cli.home / "runbooks").mkdir()
    (drkit_cli.home / "runbooks" / "bad.yaml").write_text(bad.read_text())
    (listed,) = drkit_cli.json("runbook", "list")  # an invalid file is listed, not fatal
    assert (listed["name"], listed["valid"]) == ("bad", False)
    assert ":4: steps[0].action: unknown action 'nope'" in listed["error"]
    schema = json.loads(drkit_cli.ok("runbook", "schema"))
    assert schema["title"] == "drkit runbook" and "Step" in schema["$defs"]


class _Service:
    """A local HTTP service: healthy until the file `broken` exists next to it."""

    def __init__(self, flag: Path) -> None:
        flag_path = flag

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                broken = flag_path.exists()
                body = json.dumps({"status": "down" if broken else "up"}).encode()
                self.send_response(500 if broken else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[_Service]:
    found = _Service(tmp_path / "broken")
    yield found
    found.stop()


def _experiment(service: _Service, tmp_path: Path, *, break_it: bool) -> Path:
    """An experiment as Chaos Toolkit's documentation writes them."""
    action = "touch" if break_it else "true"
    document = {
        "version": "1.0.0",
        "title": "The service stays healthy when its worker restarts",
        "description": "Restarting the worker must not take the service down.",
        "tags": ["service"],
        "configuration": {"service_url": service.url, "work_dir": str(tmp_path)},
        "steady-state-hypothesis": {
            "title": "Service is healthy",
            "probes": [
                {
                    "type": "probe",
                    "name": "service-must-be-up",
                    "tolerance": 200,
                    "provider": {"type": "http", "url": "${service_url}/health", "timeout": 3},
                },
                {
                    "type": "probe",
                    "name": "service-reports-up",
                    "tolerance": {
                        "type": "jsonpath",
                        "path": "$.status",
                        "expect": "up",
                        "target": "body",
                    },
                    "provider": {"type": "http", "url": "${service_url}/health"},
                },
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "restart-worker",
                "provider": {
                    "type": "process",
                    "path": action,
                    "arguments": ["${work_dir}/broken"] if break_it else [],
                },
                "pauses": {"after": 0.2},
            },
            {"ref": "service-must-be-up"},
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "mark-rolled-back",
                "provider": {"type": "process", "path": "touch", "arguments": "${work_dir}/rolled"},
            }
        ],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def test_a_chaos_toolkit_experiment_runs_and_writes_its_journal(
    drkit_cli: Drkit, tmp_path: Path, service: _Service
) -> None:
    experiment = _experiment(service, tmp_path, break_it=False)
    journal_file = tmp_path / "journal.json"
    done = drkit_cli("runbook", "run", "--chaostoolkit", str(experiment), "--journal",
                     str(journal_file))  # fmt: skip
    assert done.returncode == 0, done.stderr
    journal = json.loads(journal_file.read_text())
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is True
    assert [p["tolerance_met"] for p in before["probes"]] == [True, True]
    assert before["probes"][0]["output"]["status"] == 200
    assert before["probes"][1]["output"]["body"] == {"status": "up"}
    assert [r["activity"]["name"] for r in journal["run"]] == [
        "restart-worker",
        "service-must-be-up",
    ]
    assert journal["run"][0]["output"] == {"status": 0, "stdout": "", "stderr": ""}
    assert journal["run"][0]["duration"] >= 0.2  # the pause after it
    assert all(r["status"] == "succeeded" and r["start"] and r["end"] for r in journal["run"])
    assert journal["steady_states"]["after"]["steady_state_met"] is True
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["mark-rolled-back"]
    assert (tmp_path / "rolled").exists()
    assert journal["experiment"]["title"] == "The service stays healthy when its worker restarts"
    run = drkit_cli.run_view(journal["drkit"]["run_id"])
    assert run["kind"] == "runbook" and run["subject"].startswith("chaos-the-service-stays")


def test_a_deviating_experiment_exits_61_and_plays_rollbacks_by_default_as_chaoslib(
    drkit_cli: Drkit, tmp_path: Path, service: _Service
) -> None:
    experiment = _experiment(service, tmp_path, break_it=True)
    done = drkit_cli("runbook", "run", "--chaostoolkit", str(experiment), "--json")
    assert done.returncode == 61 and "the steady state deviated" in done.stderr
    journal = json.loads(done.stdout)
    assert (journal["status"], journal["deviated"]) == ("completed", True)  # chaoslib's status
    after = journal["steady_states"]["after"]
    assert after["steady_state_met"] is False
    assert after["probes"][0]["tolerance_met"] is False
    assert after["probes"][0]["output"]["status"] == 500
    assert len(after["probes"]) == 1  # the hypothesis stops at the first probe out of tolerance
    assert journal["rollbacks"][0]["status"] == "succeeded" and (tmp_path / "rolled").exists()
    (tmp_path / "rolled").unlink()
    (tmp_path / "broken").unlink()  # the method breaks the service again
    never = drkit_cli("runbook", "run", "--chaostoolkit", str(experiment), "--json",
                      "--rollback-strategy", "never")  # fmt: skip
    assert never.returncode == 61 and json.loads(never.stdout)["rollbacks"] == []
    assert not (tmp_path / "rolled").exists()


def test_a_steady_state_not_met_before_skips_the_method_and_completes_as_chaos_run(
    drkit_cli: Drkit, tmp_path: Path, service: _Service
) -> None:
    (tmp_path / "broken").touch()
    experiment = _experiment(service, tmp_path, break_it=False)
    done = drkit_cli("runbook", "run", "--chaostoolkit", str(experiment), "--json")
    assert done.returncode == 0  # as `chaos run`: completed, not deviated
    assert "the steady state was not met before the method" in done.stderr
    journal = json.loads(done.stdout)
    assert journal["status"] == "completed" and journal["deviated"] is False
    assert journal["steady_states"]["before"]["steady_state_met"] is False
    assert journal["run"] == []  # the method did not run
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["mark-rolled-back"]
    assert journal["steady_states"]["after"] is None
