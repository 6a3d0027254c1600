"""The pack-check ledgers: in memory and in JSON files (atomic, shared by processes)."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drkit.verify.errors import LedgerError
from drkit.verify.ledger_file import FilePackCheckLedger
from drkit.verify.ledger_memory import MemoryPackCheckLedger
from drkit.verify.subset import PackCheckLedger, PackCheckResult, PackStatus

T0 = datetime(2025, 1, 1, tzinfo=UTC)
REPO = "ab" * 32


def ok(name: str, when: datetime) -> PackCheckResult:
    return PackCheckResult(name, 10, when, PackStatus.OK)


def bad(name: str, when: datetime) -> PackCheckResult:
    return PackCheckResult(name, 10, when, PackStatus.DAMAGED, ("blob x is damaged",))


@pytest.fixture(params=["memory", "file"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> PackCheckLedger:
    if request.param == "memory":
        return MemoryPackCheckLedger()
    return FilePackCheckLedger.in_home(tmp_path / "home")


def test_good_reads_are_remembered_per_repository(ledger: PackCheckLedger) -> None:
    assert ledger.last_checked(REPO) == {}
    ledger.record(REPO, [ok("p1", T0), ok("p2", T0)])
    ledger.record("other", [ok("p3", T0)])
    assert ledger.last_checked(REPO) == {"p1": T0, "p2": T0}
    assert ledger.last_checked("other") == {"p3": T0}


def test_a_damaged_read_keeps_the_earlier_good_time(ledger: PackCheckLedger) -> None:
    ledger.record(REPO, [ok("p1", T0)])
    ledger.record(REPO, [bad("p1", T0 + timedelta(days=3)), bad("p2", T0)])
    assert ledger.last_checked(REPO) == {"p1": T0}


def test_an_older_result_does_not_move_time_back(ledger: PackCheckLedger) -> None:
    ledger.record(REPO, [ok("p1", T0 + timedelta(days=2))])
    ledger.record(REPO, [ok("p1", T0)])
    assert ledger.last_checked(REPO) == {"p1": T0 + timedelta(days=2)}


def test_file_ledger_survives_a_new_instance_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    FilePackCheckLedger(tmp_path).record(REPO, [ok("p1", T0)])
    assert FilePackCheckLedger(tmp_path).last_checked(REPO) == {"p1": T0}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", f"pack-reads-{REPO}.json"]
    doc = json.loads((tmp_path / f"pack-reads-{REPO}.json").read_text())
    assert doc == {"version": 1, "repository_id": REPO, "packs": {"p1": T0.isoformat()}}


def test_file_ledger_names_a_damaged_file(tmp_path: Path) -> None:
    ledger = FilePackCheckLedger(tmp_path)
    ledger.path(REPO).write_text("{not json")
    with pytest.raises(LedgerError) as info:
        ledger.last_checked(REPO)
    assert str(ledger.path(REPO)) in info.value.message
    assert info.value.exit_code == 34


def test_file_ledger_refuses_another_repositorys_file(tmp_path: Path) -> None:
    ledger = FilePackCheckLedger(tmp_path)
    ledger.record("other", [ok("p1", T0)])
    ledger.path("other").rename(ledger.path(REPO))
    with pytest.raises(LedgerError):
        ledger.last_checked(REPO)


def _record_many(directory: str, start: int) -> None:
    ledger = FilePackCheckLedger(Path(directory))
    for i in range(start, start + 40):
        ledger.record(REPO, [ok(f"p{i:03}", T0)])


def test_file_ledger_loses_nothing_when_processes_record_at_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(str(tmp_path), s)) for s in (0, 40, 80)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(FilePackCheckLedger(tmp_path).last_checked(REPO)) == 120
