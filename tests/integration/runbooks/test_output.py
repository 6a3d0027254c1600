# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""`drkit runbook` prints through the command's Output: text, --quiet, --json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.runbooks.cli import Drkit, drkit_cli  # noqa: F401

BOOK = """
name: one
steps:
  - {id: hello, action: shell, with: {command: "echo hi"}}
"""


def test_run_prints_steps_unless_quiet_and_a_report_with_json(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    drkit_cli.save(tmp_path / "one.yaml", BOOK)
    text = drkit_cli("runbook", "run", "one")
    assert text.returncode == 0 and "> hello" in text.stderr and "succeeded" in text.stdout
    quiet = drkit_cli("--quiet", "runbook", "run", "one")
    assert quiet.returncode == 0 and "hello" not in quiet.stderr
    assert "succeeded" in quiet.stdout  # the outcome, without the steps
    as_json = drkit_cli("runbook", "run", "one", "--json")
    report = json.loads(as_json.stdout)
    assert (report["runbook"], report["status"]) == ("one", "succeeded")
    saved = drkit_cli("--quiet", "runbook", "save", str(tmp_path / "one.yaml"))
    assert saved.returncode == 0 and saved.stdout == ""
