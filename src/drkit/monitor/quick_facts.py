"""The monitor's rows read from a current SQLite catalog with sqlite3 (`drkit status`).

The same rows, in the same order, as :func:`drkit.monitor.facts.orm_rows`
reads through the ORM, without importing SQLAlchemy (see
:mod:`drkit.catalog.quick`); None when the catalog is not a current SQLite
file. :func:`drkit.monitor.facts.facts_from` makes the facts of either.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from drkit.catalog.names import JOB_RUNS, SNAPSHOTS_SEEN, VERIFICATIONS
from drkit.catalog.quick import reading, required_time, utc_time
from drkit.monitor.fact_rows import CheckRecord, FactRows, JobRunRecord, SeenSnapshot

# the latest finished run of each job that a stop did not interrupt (as facts._job_runs)
_COUNTED = "job IS NOT NULL AND finished_at IS NOT NULL AND status != 'interrupted'"
_LATEST = JOB_RUNS.select(
    f"id IN (SELECT max(id) FROM {JOB_RUNS.name} WHERE {_COUNTED} GROUP BY job)", "id"
)
_BACKED_UP = f"SELECT DISTINCT job FROM {JOB_RUNS.name} WHERE {_COUNTED} AND kind = 'backup'"


def quick_rows(url: str) -> FactRows | None:
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            snapshots = conn.execute(SNAPSHOTS_SEEN.select()).fetchall()
            checks = conn.execute(VERIFICATIONS.select(order="id")).fetchall()
            runs = conn.execute(_LATEST).fetchall()
            backed_up = frozenset(row[0] for row in conn.execute(_BACKED_UP) if row[0])
        except sqlite3.Error:
            return None
    return FactRows(
        tuple(_snapshot(r) for r in snapshots),
        tuple(_check(r) for r in checks),
        tuple(_run(r) for r in runs),
        backed_up,
    )


def _snapshot(row: tuple[Any, ...]) -> SeenSnapshot:
    return SeenSnapshot(row[0], row[1], required_time(row[2]), row[3], row[4], utc_time(row[5]))


def _check(row: tuple[Any, ...]) -> CheckRecord:
    return CheckRecord(
        repository=row[0],
        subject=row[1],
        kind=row[2],
        ok=bool(row[3]),
        started_at=required_time(row[4]),
        duration_s=row[5],
        snapshot_id=row[6],
        summary=row[7],
        source=row[8],
    )


def _run(row: tuple[Any, ...]) -> JobRunRecord:
    return JobRunRecord(row[0], row[1], utc_time(row[2]), row[3], row[4])
