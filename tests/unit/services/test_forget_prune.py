"""The forget and prune operations: request checks, JSON shapes, a held lock refuses."""

from __future__ import annotations

import json

import pytest

from drkit.errors import RepositoryLocked, UsageError
from drkit.policy import RetentionPolicy
from drkit.repository.locks import RepoLock
from drkit.repository.prune import PruneOptions
from drkit.services.backup import BackupSpec, backup
from drkit.services.forget import ForgetOutcome, ForgetRequest, forget, prune_options
from drkit.services.prune import prune_repository
from tests.unit.services.repos import Filled

KEEP_ONE = RetentionPolicy(last=1)


def _second_snapshot(filled: Filled) -> str:
    (filled.src / "c.txt").write_bytes(b"c" * 70_000)
    result = backup(filled.workspace, BackupSpec(paths=[str(filled.src)]))
    assert result.files is not None
    return result.files.snapshot.id


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (ForgetRequest(PruneOptions()), "nothing to forget"),
        (ForgetRequest(PruneOptions(), ids=("abcd",), retention=KEEP_ONE), "not both"),
        (ForgetRequest(PruneOptions(), retention=KEEP_ONE, policy="p"), "--policy takes"),
    ],
)
def test_a_request_naming_nothing_or_two_things_is_refused(
    filled: Filled, request_: ForgetRequest, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        forget(filled.workspace, request_)
    assert caught.value.hint
    assert [s.id for s in filled.open().snapshots()] == [filled.snapshot]


def test_forget_by_retention_removes_the_older_snapshot_then_prunes(filled: Filled) -> None:
    newer = _second_snapshot(filled)
    options = prune_options(filled.workspace, max_unused=5.0, dry_run=False)
    request = ForgetRequest(options, retention=KEEP_ONE, fields=("host",), run_prune=True)
    result = forget(filled.workspace, request)
    assert isinstance(result, ForgetOutcome)
    doc = json.loads(json.dumps(result.to_json(), default=str))
    assert set(doc) == {"dry_run", "groups", "removed", "would_remove", "prune"}
    assert doc["removed"] == [filled.snapshot] and doc["would_remove"] == []
    assert [s["id"] for s in doc["groups"][0]["keep"]] == [newer]
    assert doc["prune"]["dry_run"] is False
    assert [s.id for s in filled.open().snapshots()] == [newer]


def test_a_dry_run_names_what_it_would_remove_and_keeps_it(filled: Filled) -> None:
    _second_snapshot(filled)
    options = prune_options(filled.workspace, max_unused=5.0, dry_run=True)
    doc = forget(filled.workspace, ForgetRequest(options, retention=KEEP_ONE)).to_json()
    assert doc["would_remove"] == [filled.snapshot] and doc["removed"] == []
    assert len(filled.open().snapshots()) == 2


def test_forget_refuses_while_another_process_holds_the_lock(filled: Filled) -> None:
    repo = filled.open()
    held = RepoLock(repo, exclusive=False, operation="backup")
    held.acquire()
    try:
        with pytest.raises(RepositoryLocked) as caught:
            forget(filled.workspace, ForgetRequest(PruneOptions(), ids=(filled.snapshot,)))
    finally:
        held.release()
    assert caught.value.hint and "--wait-lock" in caught.value.hint
    assert [s.id for s in filled.open().snapshots()] == [filled.snapshot]


def test_prune_after_forget_frees_the_data_and_reports_its_shape(filled: Filled) -> None:
    _second_snapshot(filled)
    forget(filled.workspace, ForgetRequest(PruneOptions(), ids=(filled.snapshot,)))
    options = prune_options(filled.workspace, max_unused=0.0, dry_run=False)
    done = prune_repository(filled.workspace, options)
    doc = json.loads(json.dumps(done.to_json()))
    assert doc["dry_run"] is False and doc["bytes_freed"] > 0
    assert set(doc["packs"]) >= {"total", "deleted", "repacked", "kept", "missing"}


def test_prune_refuses_while_another_process_holds_the_lock(filled: Filled) -> None:
    held = RepoLock(filled.open(), exclusive=False, operation="restore")
    held.acquire()
    try:
        with pytest.raises(RepositoryLocked):
            prune_repository(filled.workspace, PruneOptions())
    finally:
        held.release()
