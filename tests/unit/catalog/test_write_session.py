"""Read-modify-write of one run row by many writers at once loses no update on SQLite
(pysqlite reads outside any transaction unless the write lock is taken first)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus
from drkit.catalog.tables import RunRow
from drkit.catalog.types import utcnow
from drkit.runbooks.approvals import DecisionRecord, Verdict, record

WRITERS = 12


def test_concurrent_approval_records_are_all_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    run_id = RunJournal.start(Catalog.open(url), kind="runbook", subject="gated").run_id
    catalogs = [Catalog.open(url, migrate=False) for _ in range(WRITERS)]  # one connection each
    start = threading.Barrier(WRITERS)

    def refuse(n: int) -> None:
        start.wait()
        entry = DecisionRecord("go", f"user{n}", "password", Verdict.REFUSED, utcnow(), "no")
        record(catalogs[n], run_id, entry)

    threads = [threading.Thread(target=refuse, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with catalogs[0].session() as s:
        kept = json.loads(s.get_one(RunRow, run_id).result_json)["approvals"]
    assert sorted(a["user"] for a in kept) == sorted(f"user{n}" for n in range(WRITERS))


def test_finishing_a_run_keeps_keys_merged_at_the_same_time(tmp_path: Path) -> None:
    """The runner ends the run (merging its result) while approvals are recorded."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    journal = RunJournal.start(Catalog.open(url), kind="runbook", subject="gated")
    catalogs = [Catalog.open(url, migrate=False) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        start.wait()
        if n == 0:
            finisher = RunJournal(catalogs[0], journal.run_id)
            finisher.finish(RunStatus.SUCCEEDED, result={"done": True}, merge=True)
        else:
            entry = DecisionRecord("go", f"user{n}", "password", Verdict.REFUSED, utcnow(), "no")
            record(catalogs[n], journal.run_id, entry)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with catalogs[0].session() as s:
        result = json.loads(s.get_one(RunRow, journal.run_id).result_json)
    assert result["done"] is True
    assert sorted(a["user"] for a in result["approvals"]) == sorted(
        f"user{n}" for n in range(1, WRITERS)
    )
