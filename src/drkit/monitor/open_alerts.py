"""The open alerts as `drkit status` lists them, read with sqlite3 where the catalog allows.

:func:`quick_open_alerts` reads a current SQLite catalog without SQLAlchemy (see
:mod:`drkit.catalog.quick`), in the order of :func:`drkit.monitor.alerts.open_alerts`
(oldest first); None when the catalog is not a current SQLite file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from drkit.catalog.names import ALERTS
from drkit.catalog.quick import reading


@dataclass(frozen=True)
class OpenAlert:
    id: int
    severity: str
    summary: str
    source: str


def quick_open_alerts(url: str) -> list[OpenAlert] | None:
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            rows = conn.execute(ALERTS.select("status = 'open'", "first_seen")).fetchall()
        except sqlite3.Error:
            return None
    return [OpenAlert(*row) for row in rows]
