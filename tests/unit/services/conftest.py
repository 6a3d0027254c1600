"""The ``filled`` fixture: a workspace over a local repository holding one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.repository.repo import Repository
from drkit.services import Workspace
from drkit.services.backup import BackupSpec, backup
from drkit.storage import open_backend
from tests.unit.services.repos import PASSWORD, Filled


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Filled]:
    for name in ("DRKIT_PASSWORD_FILE", "DRKIT_REPO", "DRKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRKIT_PASSWORD", PASSWORD)
    monkeypatch.setenv("DRKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no drkit.yaml found by accident
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a" * 5000)
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 400)
    repo_dir = tmp_path / "repo"
    Repository.init(open_backend(str(repo_dir)), PASSWORD)
    ws = Workspace(repo=str(repo_dir))
    result = backup(ws, BackupSpec(paths=[str(src)]))
    assert result.files is not None
    yield Filled(ws, repo_dir, src, result.files.snapshot.id)
    ws.close()
