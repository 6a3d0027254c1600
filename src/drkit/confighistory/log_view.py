"""`drkit config log` as a table and as JSON: what a listing of versions needs, and no more.

Kept apart from :mod:`.render` and :mod:`.views` (diffs, collections, restores)
so that listing versions imports neither Rich's tables of diffs nor the
collectors; both re-export these.
"""

from __future__ import annotations

from typing import Any

from drkit.confighistory.model import ConfigVersion
from drkit.tablefit import Column, FittedTable

VERSION_COLUMNS = (
    Column("id", key=True, justify="right"),
    Column("time", key=True),
    Column("configuration", key=True),  # host and path: never cut
    Column("author", priority=2),
    Column("message", wrap=True, priority=1),
    Column("hash", priority=3),
    Column("size", priority=4, justify="right"),
)


def version_table(versions: list[ConfigVersion]) -> FittedTable:
    """``config log``: at 80 columns the id, time and file stay whole; size and hash go first."""
    table = FittedTable(VERSION_COLUMNS)
    for v in versions:
        table.add_row(
            str(v.id),
            f"{v.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
            v.scope.display,
            v.author,
            v.message,
            v.content_hash[:12],
            f"{v.size} B",
        )
    return table


def version_doc(v: ConfigVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "uid": v.uid,
        "scope": str(v.scope),
        "name": v.scope.display,
        "author": v.author,
        "time": v.created_at.isoformat(),
        "message": v.message,
        "content_hash": v.content_hash,
        "size": v.size,
        "mode": f"{v.mode:04o}" if v.mode is not None else None,
    }
