"""init and unlock as operations: their JSON shapes, existing data refused, live locks kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drkit.errors import DrkitError
from drkit.repository.locks import RepoLock, read_locks
from drkit.services import Workspace
from drkit.services.repository_admin import init_repository, unlock
from tests.unit.services.repos import Filled


def test_init_creates_a_repository_and_names_it(filled: Filled, tmp_path: Path) -> None:
    ws = Workspace(repo=str(tmp_path / "new"))
    created = init_repository(ws)
    assert created.to_json() == {"id": created.id, "location": created.location}
    assert (tmp_path / "new" / "config").exists() and len(created.id) == 64


def test_init_over_an_existing_repository_is_refused(filled: Filled) -> None:
    with pytest.raises(DrkitError) as caught:
        init_repository(filled.workspace)
    assert caught.value.hint
    assert [s.id for s in filled.open().snapshots()] == [filled.snapshot]  # untouched


def test_unlock_keeps_a_live_lock_unless_forced(filled: Filled) -> None:
    held = RepoLock(filled.open(), exclusive=True, operation="prune")
    held.acquire()
    kept = unlock(filled.workspace)
    doc = json.loads(json.dumps(kept.to_json(), default=str))
    assert doc["removed_stale"] == [] and [x["operation"] for x in doc["kept_live"]] == ["prune"]
    assert len(read_locks(filled.open())) == 1
    forced = unlock(filled.workspace, force=True)
    assert [x["operation"] for x in forced.to_json()["removed_live"]] == ["prune"]
    assert read_locks(filled.open()) == []
