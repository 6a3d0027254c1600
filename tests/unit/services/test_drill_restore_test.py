"""The drill and restore-test operations: typed results, steps to the progress, the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog.runs import RunStatus, get_run, list_runs
from drkit.catalog.tables import VerificationRow
from drkit.repository.repo import Repository
from drkit.services import Workspace
from drkit.services.backup import BackupSpec, backup
from drkit.services.drill import DrillRequest, drill, drill_failure
from drkit.services.restore_test import (
    RestoreOptions,
    RestoreTestRequest,
    restore_test,
    restore_test_failure,
)
from drkit.storage import open_backend
from drkit.verify.drill import DrillVerdict
from drkit.verify.errors import RestoreTestFailed
from drkit.verify.steps import StepResult

CONFIG = """\
version: 1
repositories:
  nas: {{url: {root}/nas, password_file: {root}/pw}}
  cloud: {{url: {root}/cloud, password_file: {root}/pw}}
policies:
  app:
    sources: [{root}/data]
    repositories: [nas, cloud]
    rto: 1h
"""


class Steps:
    """A StepProgress recording what the operation reports."""

    def __init__(self) -> None:
        self.phases: list[str] = []
        self.steps: list[StepResult] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def advance(self, done: int, total: int | None = None) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def step_ended(self, step: StepResult) -> None:
        self.steps.append(step)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    for name in ("DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE", "DRKIT_REPO", "DRKIT_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRKIT_HOME", str(tmp_path / "home"))
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_bytes(b"a" * 5000)
    for name in ("nas", "cloud"):
        Repository.init(open_backend(str(tmp_path / name)), "secret")
    config = tmp_path / "drkit.yaml"
    config.write_text(CONFIG.format(root=tmp_path))
    ws = Workspace(config=config)
    backup(ws, BackupSpec(policy="app"))
    yield ws
    ws.close()


def _break_packs(repo_dir: Path) -> None:
    for pack in (repo_dir / "data").rglob("*"):
        if pack.is_file():
            pack.write_bytes(b"\0" * pack.stat().st_size)


def test_a_drill_reports_its_steps_journals_its_run_and_records_evidence(
    workspace: Workspace, tmp_path: Path
) -> None:
    progress = Steps()
    report = drill(workspace, DrillRequest("app"), progress=progress)

    assert report.verdict is DrillVerdict.PASSED and drill_failure(report) is None
    names = [s.name for s in progress.steps]
    assert names.count("restore") == 2 and names.count("cleanup") == 2  # nas and cloud
    catalog = workspace.catalog()
    (run,) = list_runs(catalog, kind="drill")
    assert run.status is RunStatus.SUCCEEDED
    assert run.result == json.loads(json.dumps(report.to_json()))  # the one JSON shape
    steps = get_run(catalog, run.id).steps
    assert [s.name for s in steps][:2] == ["nas: prepare", "nas: restore"]
    with catalog.session() as session:
        rows = session.query(VerificationRow).all()
    assert sorted((r.repository, r.ok, r.kind) for r in rows) == [
        ("cloud", True, "drill"),
        ("nas", True, "drill"),
    ]


def test_a_failed_drill_fails_its_run_and_names_the_repository(
    workspace: Workspace, tmp_path: Path
) -> None:
    _break_packs(tmp_path / "cloud")

    report = drill(workspace, DrillRequest("app"))

    assert report.verdict is DrillVerdict.FAILED
    failure = drill_failure(report)
    assert isinstance(failure, RestoreTestFailed) and "cloud" in failure.message
    assert "nas" not in failure.message
    (run,) = list_runs(workspace.catalog(), kind="drill")
    assert run.status is RunStatus.FAILED and run.error == failure.message
    assert run.result["verdict"] == "failed"


def test_a_drill_attached_to_the_daemons_run_leaves_it_open(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drkit.catalog.runs import RunJournal

    journal = RunJournal.start(workspace.catalog(), kind="drill", subject="app", trigger="cron")
    monkeypatch.setenv("DRKIT_RUN_ID", str(journal.run_id))

    drill(workspace, DrillRequest("app", repository="nas"))

    run = get_run(workspace.catalog(), journal.run_id)
    assert run.status is RunStatus.RUNNING  # the daemon finishes its own run
    assert run.steps[0].name == "nas: prepare"


def test_a_restore_test_of_a_policy_passes_and_its_json_is_plain(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.repo = "nas"
    progress = Steps()
    options = RestoreOptions(scratch=tmp_path / "scratch")

    result = restore_test(
        workspace, RestoreTestRequest(policy="app", options=options), progress=progress
    )

    assert result.passed and restore_test_failure(result) is None
    assert result.repository == "nas" and result.files == 1
    assert [s.name for s in progress.steps] == ["prepare", "restore", "verify", "cleanup"]
    assert json.loads(json.dumps(result.to_json()))["snapshot"] == result.snapshot_id
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_restore_test_of_damaged_data_fails_with_the_step(
    workspace: Workspace, tmp_path: Path
) -> None:
    _break_packs(tmp_path / "nas")
    workspace.repo = "nas"

    result = restore_test(workspace, RestoreTestRequest(policy="app"))

    assert not result.passed
    failure = restore_test_failure(result)
    assert failure is not None and failure.exit_code == 32
    assert result.snapshot_id[:8] in failure.message
