"""Reading a current SQLite catalog with the standard library's sqlite3.

Listing runs is what `drkit runs` does, many times a day from scripts and
monitors, and SQLAlchemy's import alone costs it about 0.25 s of CPU. When
the catalog is a SQLite file whose schema is current (``alembic_version``
holds the heads of the migration files), these functions read it directly,
read-only; otherwise they return None and the caller opens the
:class:`~drkit.catalog.Catalog` (which migrates, or refuses a newer schema).
The rows become the same :class:`~drkit.catalog.views.RunView` as the ORM's.

:func:`reading` is that test and connection for the other quick readers (the
scheduler's slots, the configuration history's log, open alerts); every table
and column they read is named in :mod:`drkit.catalog.names`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drkit.catalog.heads import script_heads
from drkit.catalog.names import RUN_STEPS, RUN_STEPS_RUN, RUNS, VERSIONS
from drkit.catalog.views import RunStatus, RunView, StepStatus, StepView

OFF_ENV = "DRKIT_QUICK_READ"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (no query, no memory database); else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    return Path(path) if path and path != ":memory:" else None


@contextmanager
def reading(url: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection when the catalog is a current SQLite file, else None.

    None also for a file whose schema is behind or ahead of this drkit's migrations:
    the caller then opens the :class:`~drkit.catalog.Catalog`, which migrates an
    older schema and refuses a newer one with a hint (``CatalogNewer``). None as well
    with ``DRKIT_QUICK_READ=off`` (every read through the ORM, to compare the two).
    """
    path = sqlite_path(url)
    if path is None or not path.is_file() or os.environ.get(OFF_ENV, "").lower() == "off":
        yield None
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        yield None
        return
    with closing(conn):
        try:
            applied = {row[0] for row in conn.execute(VERSIONS.select())}
        except sqlite3.Error:
            applied = set()
        yield conn if applied and applied == script_heads() else None


def list_runs(
    url: str,
    *,
    kind: str | None = None,
    subject: str | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
) -> list[RunView] | None:
    """The newest runs as :func:`drkit.catalog.runs.list_runs` gives them; None: use the ORM."""
    where: list[str] = []
    params: list[str] = []
    for column, value in (("kind", kind), ("subject", subject), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(str(value))
    query = RUNS.select(" AND ".join(where), "id DESC") + " LIMIT ?"
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            rows = conn.execute(query, (*params, limit)).fetchall()
        except sqlite3.Error:
            return None
    return [_run(row, ()) for row in rows]


def get_run(url: str, run_id: int) -> RunView | None:
    """One run with its steps; None when it is not there or the ORM must read (the caller
    then raises RunNotFound through it)."""
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            row = conn.execute(RUNS.select("id = ?"), (run_id,)).fetchone()
            steps = conn.execute(
                RUN_STEPS.select(f"{RUN_STEPS_RUN} = ?", "seq, id"), (run_id,)
            ).fetchall()
        except sqlite3.Error:
            return None
    return _run(row, tuple(_step(s) for s in steps)) if row is not None else None


def _run(row: tuple[Any, ...], steps: tuple[StepView, ...]) -> RunView:
    return RunView(
        id=row[0],
        kind=row[1],
        subject=row[2],
        subject_version=row[3],
        job=row[4],
        trigger=row[5],
        status=RunStatus(row[6]),
        scheduled_for=utc_time(row[7]),
        started_at=required_time(row[8]),
        finished_at=utc_time(row[9]),
        duration_s=row[10],
        error=row[11],
        host=row[12],
        result=json.loads(row[13] or "{}"),
        steps=steps,
    )


def _step(row: tuple[Any, ...]) -> StepView:
    return StepView(
        seq=row[0],
        name=row[1],
        status=StepStatus(row[2]),
        started_at=required_time(row[3]),
        finished_at=utc_time(row[4]),
        duration_s=row[5],
        output=row[6],
        error=row[7],
        actor=row[8],
        details=json.loads(row[9] or "{}"),
    )


def utc_time(value: str | None) -> datetime | None:
    """A time as the ORM reads it: SQLAlchemy stores UTC without a zone
    ("2026-12-03 07:20:16.123456"), :class:`~drkit.catalog.types.UTCDateTime` hands it back
    aware."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def required_time(value: str) -> datetime:
    parsed = utc_time(value)
    assert parsed is not None
    return parsed
