"""`drkit config log` read from a current SQLite catalog with sqlite3, without SQLAlchemy.

The same versions, in the same order, as :meth:`VersionStore.history
<drkit.confighistory.store.VersionStore.history>` (newest first, then the
highest id), the scopes selected by :func:`~drkit.confighistory.model.select_scopes`
as :meth:`History.select <drkit.confighistory.service.History.select>` does.
None when the catalog is not a current SQLite file (see :mod:`drkit.catalog.quick`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from drkit.catalog.names import CONFIG_HEADS, CONFIG_VERSIONS
from drkit.catalog.quick import reading, required_time
from drkit.confighistory.model import ConfigVersion, Scope, select_scopes


def quick_log(url: str, selectors: list[str] | None, limit: int) -> list[ConfigVersion] | None:
    """Versions of the scopes ``selectors`` name (None: of every scope), at most ``limit``."""
    with reading(url) as conn:
        if conn is None:
            return None
        try:
            params: list[Any] = []
            where = ""
            if selectors:
                known = sorted(Scope.parse(r[0]) for r in conn.execute(CONFIG_HEADS.select()))
                scopes = [str(s) for s in select_scopes(known, selectors)]
                where = f"scope IN ({', '.join('?' * len(scopes))})"
                params += scopes
            query = CONFIG_VERSIONS.select(where, "created_at DESC, id DESC") + " LIMIT ?"
            rows = conn.execute(query, (*params, limit)).fetchall()
        except sqlite3.Error:
            return None
    return [_version(row) for row in rows]


def _version(row: tuple[Any, ...]) -> ConfigVersion:
    return ConfigVersion(
        id=row[0],
        uid=row[1],
        scope=Scope.parse(row[2]),
        author=row[3],
        created_at=required_time(row[4]),
        message=row[5],
        content_hash=row[6],
        size=row[7],
        mode=row[8],
    )
