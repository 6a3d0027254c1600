"""The last slot of each job, read from a current SQLite catalog with sqlite3 (`drkit jobs`).

The same mapping as :func:`drkit.scheduler.state.load_slots`, without importing
SQLAlchemy (see :mod:`drkit.catalog.quick`); None when the catalog is not a
current SQLite file, and the caller reads it through the ORM.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from drkit.catalog.names import JOB_STATE
from drkit.catalog.quick import reading, utc_time


def quick_slots(url: str) -> dict[str, datetime | None] | None:
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            rows = conn.execute(JOB_STATE.select()).fetchall()
        except sqlite3.Error:
            return None
    return {job: utc_time(slot) for job, slot in rows}
