"""The backup and copy operations: typed results, progress through callbacks, failures kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.repository.repo import Repository
from drkit.services import Workspace
from drkit.services.backup import BackupSpec, backup
from drkit.services.copy import CopySpec, copy
from drkit.storage import open_backend

CONFIG = """\
version: 1
repositories:
  nas: {{url: {root}/nas, password_file: {root}/pw}}
  cloud: {{url: {root}/cloud, password_file: {root}/pw}}
policies:
  app:
    sources:
      - {root}/data
      - {{type: sqlite, path: {root}/missing.db}}
    repositories: [nas, cloud]
"""


class Recorder:
    def __init__(self) -> None:
        self.phases: list[str] = []
        self.done: list[int] = []
        self.warnings: list[str] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def advance(self, done: int, total: int | None = None) -> None:
        self.done.append(done)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    for name in ("DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE", "DRKIT_REPO", "DRKIT_CONFIG"):
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
    yield ws
    ws.close()


def test_a_policy_backup_saves_the_files_and_records_the_failed_database(
    workspace: Workspace,
) -> None:
    progress = Recorder()
    result = backup(workspace, BackupSpec(policy="app"), progress)
    assert result.files is not None
    assert result.files.repositories == ["nas", "cloud"]
    assert [s.id for s in result.files.snapshots] == [result.files.snapshot.id] * 2
    assert len(result.sources) == 1 and result.sources[0].source.startswith("sqlite")
    assert result.sources[0].error is not None and not result.sources[0].snapshots
    assert len(result.failures) == 1  # the database failed, the files were saved anyway
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["snapshot"] == result.files.snapshot.id
    assert doc["summary"]["files_new"] == 1
    assert [r["name"] for r in doc["repositories"]] == ["nas", "cloud"]
    assert "error" in doc["databases"][0]
    assert progress.done and progress.done[-1] == 5000  # bytes reported through the callback


def test_paths_without_a_repository_are_refused(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="nothing to back up"):
        backup(workspace, BackupSpec())


def test_copy_sends_what_the_destination_lacks_once(workspace: Workspace) -> None:
    saved = backup(workspace, BackupSpec(paths=[], policy="app")).files
    assert saved is not None
    other = Workspace(config=workspace.config)
    try:
        # cloud already has the snapshot (the fan-out wrote it there): nothing to copy
        again = copy(other, CopySpec("nas", "cloud"))
        assert again.to_json()["copied"] == [] and again.skipped == 1
    finally:
        other.close()


def test_copy_into_a_new_repository_copies_every_snapshot(
    workspace: Workspace, tmp_path: Path
) -> None:
    saved = backup(workspace, BackupSpec(policy="app")).files
    assert saved is not None
    Repository.init(open_backend(str(tmp_path / "third")), "other")
    progress = Recorder()
    spec = CopySpec("nas", str(tmp_path / "third"), destination_password="other")
    result = copy(workspace, spec, progress)
    assert result.to_json()["copied"] == [saved.snapshot.id]
    assert result.stats.blobs_added > 0 and "copy" in progress.phases


def test_copy_refuses_the_same_repository(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="same repository"):
        copy(workspace, CopySpec("nas", "nas"))
