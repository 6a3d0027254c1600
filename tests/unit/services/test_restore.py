"""The restore operation: its JSON shape, a non-empty target refused, damage is incomplete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drkit.errors import IncompleteError, SnapshotNotFound, UsageError
from drkit.services.restore import RestoreSpec, restore
from drkit.storage.base import FileKind
from tests.fixtures.damage import flip_byte, pack_path
from tests.unit.services.repos import Filled, Recorder


def test_restore_writes_the_tree_and_reports_its_shape(filled: Filled, tmp_path: Path) -> None:
    target = tmp_path / "out"
    progress = Recorder()
    result = restore(filled.workspace, RestoreSpec("latest", str(target)), progress)
    assert result.failure() is None and result.snapshot.id == filled.snapshot
    doc = json.loads(json.dumps(result.to_json()))
    assert set(doc) == {"snapshot", "files", "dirs", "bytes", "failed", "warnings"}
    assert doc["snapshot"] == filled.snapshot and doc["files"] == 2 and doc["failed"] == {}
    restored = target / filled.src.relative_to("/") / "sub" / "b.bin"
    assert restored.read_bytes() == (filled.src / "sub" / "b.bin").read_bytes()
    assert progress.done and progress.done[-1] == doc["bytes"]


def test_a_non_empty_target_is_refused_before_anything_is_written(
    filled: Filled, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty") as caught:
        restore(filled.workspace, RestoreSpec("latest", str(target)))
    assert caught.value.hint and "--overwrite" in caught.value.hint
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


def test_a_snapshot_narrowed_to_nothing_is_a_clear_error(filled: Filled, tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound, match="host nohost"):
        restore(filled.workspace, RestoreSpec("latest", str(tmp_path / "o"), host="nohost"))
    assert not (tmp_path / "o").exists()


def test_damaged_data_makes_the_restore_incomplete_exit_3(filled: Filled, tmp_path: Path) -> None:
    backend = filled.open().backend
    for info in backend.list(FileKind.PACK):  # every pack: the file data is damaged for sure
        flip_byte(pack_path(filled.repo_dir, info.name), 40)
    result = restore(filled.workspace, RestoreSpec("latest", str(tmp_path / "out")))
    assert result.result.failed
    assert result.to_json()["failed"] == result.result.failed
    failure = result.failure()
    assert isinstance(failure, IncompleteError) and failure.exit_code == 3
    assert failure.hint and "check --read-data" in failure.hint
