"""Read-modify-write of one run row by many writers at once loses no update on SQLite
(pysqlite reads outside any transaction unless the write lock is taken first)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal
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
