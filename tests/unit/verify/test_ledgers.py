"""The pack-check ledgers: in memory and in the catalog (shared by processes)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.verify.ledger_catalog import CatalogPackCheckLedger
from drkit.verify.ledger_memory import MemoryPackCheckLedger
from drkit.verify.subset import PackCheckLedger, PackCheckResult, PackStatus

T0 = datetime(2025, 1, 1, tzinfo=UTC)
REPO = "ab" * 32


def ok(name: str, when: datetime) -> PackCheckResult:
    return PackCheckResult(name, 10, when, PackStatus.OK)


def bad(name: str, when: datetime) -> PackCheckResult:
    return PackCheckResult(name, 10, when, PackStatus.DAMAGED, ("blob x is damaged",))


@pytest.fixture(params=["memory", "catalog"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> PackCheckLedger:
    if request.param == "memory":
        return MemoryPackCheckLedger()
    return CatalogPackCheckLedger(Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}"))


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


def _record_many(catalog_url: str, start: int) -> None:
    ledger = CatalogPackCheckLedger(Catalog.open(catalog_url))
    for i in range(start, start + 40):
        ledger.record(REPO, [ok(f"p{i:03}", T0)])


def test_catalog_ledger_loses_nothing_when_processes_record_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    Catalog.open(url).close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(url, s)) for s in (0, 40, 80)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(CatalogPackCheckLedger(Catalog.open(url)).last_checked(REPO)) == 120
