"""The check and repair operations: typed results, the JSON shape, damage is a failure."""

from __future__ import annotations

import json

from drkit.errors import IntegrityError
from drkit.repository.check import PackSubset
from drkit.services.check import CheckRequest, check
from drkit.services.repair import repair_index
from drkit.storage.base import FileKind
from tests.fixtures.damage import damage_header, flip_byte, pack_path
from tests.unit.services.repos import Filled, Recorder


def test_a_sound_repository_checks_ok_and_reports_the_bytes_read(filled: Filled) -> None:
    progress = Recorder()
    result = check(filled.workspace, CheckRequest(read_data=PackSubset()), progress)
    assert result.ok and result.failure() is None and result.chain is None
    doc = json.loads(json.dumps(result.to_json()))
    assert doc == result.report.to_json()  # --json is the report, unchanged
    assert doc["ok"] is True and doc["read_data"] == "all" and doc["errors"] == []
    assert doc["counts"]["snapshots"] == 1 and doc["counts"]["packs_read"] >= 1
    assert progress.done and progress.done[-1] == doc["counts"]["bytes_read"]


def test_with_the_chain_the_json_adds_it_beside_the_report(filled: Filled) -> None:
    result = check(filled.workspace, CheckRequest(chain=True))
    assert result.chain is not None and result.ok and result.failure() is None
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["ok"] is True and "chain" in doc and "counts" in doc


def test_a_damaged_pack_fails_the_check_with_exit_13(filled: Filled) -> None:
    pack = _a_pack(filled)
    flip_byte(pack_path(filled.repo_dir, pack), 40)
    result = check(filled.workspace, CheckRequest(read_data=PackSubset()))
    assert not result.ok
    doc = result.to_json()
    assert doc["ok"] is False and doc["errors"] and doc["affected"]
    failure = result.failure()
    assert isinstance(failure, IntegrityError) and failure.exit_code == 13
    assert failure.hint


def test_repair_of_a_sound_index_rewrites_it_and_passes(filled: Filled) -> None:
    result = repair_index(filled.workspace, Recorder())
    assert result.failure() is None and result.evidence is None
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["verified"] is None and doc["new_index"] and doc["unindexed"] == {}
    assert doc["packs"] >= 1 and doc["blobs"] >= 3


def test_repair_fails_when_a_pack_header_is_damaged_and_no_index_knows_it(
    filled: Filled,
) -> None:
    pack = _a_pack(filled)
    backend = filled.open().backend
    for info in list(backend.list(FileKind.INDEX)):
        backend.remove(FileKind.INDEX, info.name)
    damage_header(filled.repo_dir, pack)
    result = repair_index(filled.workspace)
    assert pack in result.report.unindexed
    assert pack in result.to_json()["unindexed"]
    failure = result.failure()
    assert isinstance(failure, IntegrityError) and "could not be indexed" in failure.message


def _a_pack(filled: Filled) -> str:
    return sorted(info.name for info in filled.open().backend.list(FileKind.PACK))[0]
