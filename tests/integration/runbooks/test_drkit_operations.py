"""drkit's own operations as runbook steps: backup, restore and check run as child drkit
processes against a real repository, their JSON answers becoming outputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.service import RunRequest, start_run
from drkit.settings.model import Settings
from tests.conftest import Runner


@pytest.fixture
def environment(drkit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The drkit child processes see the test's passphrase, home and cache."""
    for key, value in drkit_env.items():
        if key.startswith("DRKIT_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("DRKIT_RUN_ID", "999999")  # must not leak into the children
    yield


def test_backup_restore_and_check_as_steps(
    initialized: Runner, repo_dir: Path, tmp_path: Path, environment: None
) -> None:
    source = tmp_path / "src"
    (source / "deep").mkdir(parents=True)
    (source / "deep" / "data.txt").write_text("precious\n")
    target = tmp_path / "restored"
    book = parse_runbook(
        f"""
name: ops
steps:
  - id: backup
    action: drkit.backup
    with: {{repo: "{repo_dir}", paths: ["{source}"], tags: [drill]}}
  - id: restore
    action: drkit.restore
    with:
      repo: "{repo_dir}"
      snapshot: "${{{{ steps.backup.outputs.short_id }}}}"
      target: "{target}"
  - {{id: check, action: drkit.check, with: {{repo: "{repo_dir}", read_data: true}}}}
  - {{id: list, action: drkit, with: {{repo: "{repo_dir}", args: [snapshots, --tag, drill]}}}}
  - id: bad
    action: drkit.restore
    with: {{repo: "{repo_dir}", snapshot: ffffffff, target: "{tmp_path / "other"}"}}
    on_failure: continue
""",
        Path("ops.yaml"),
    ).runbook
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'runbook-catalog.db'}")
    try:
        report = start_run(catalog, book, Settings(), RunRequest(poll_s=0.05))
        steps = {s.name: s for s in get_run(catalog, report.run_id).steps}
    finally:
        catalog.close()
    assert report.status is RunStatus.SUCCEEDED, report.error
    restored = target / str(source).lstrip("/") / "deep" / "data.txt"
    assert restored.read_text() == "precious\n"
    backup = steps["backup"].details["outputs"]
    assert len(backup["short_id"]) == 8 and backup["snapshot"].startswith(backup["short_id"])
    assert steps["check"].details["outputs"]["ok"] == "true"
    assert backup["short_id"] in steps["list"].details["outputs"]["json"]
    assert "snapshot" in (steps["bad"].error or "") and steps["bad"].status.value == "failed"
    assert "exit 14" in (steps["bad"].error or "")
    assert os.environ["DRKIT_RUN_ID"] == "999999"
