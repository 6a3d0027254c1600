"""The read-rotation ledger in the catalog: when each pack was last read intact.

The daemon and `drkit verify subset` share it through the catalog (SQLite by
default, PostgreSQL for several daemons), so a rotation continues whoever
runs it. Rows of pruned packs are kept: the oldest entry anchors the
deadline of packs never checked (see :func:`drkit.verify.subset.plan_rotation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import PackCheckRow
from drkit.verify.subset import PackCheckResult


class CatalogPackCheckLedger:
    """:class:`~drkit.verify.subset.PackCheckLedger` over the catalog's pack_checks table."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def last_checked(self, repository_id: str) -> Mapping[str, datetime]:
        query = select(PackCheckRow).where(PackCheckRow.repository_id == repository_id)
        with self.catalog.session() as session:
            return {row.pack: row.checked_at for row in session.scalars(query)}

    def record(self, repository_id: str, results: Sequence[PackCheckResult]) -> None:
        good = [r for r in results if r.ok]
        if not good:
            return  # a damaged pack keeps its earlier time: it stays first in the rotation
        with self.catalog.session() as session:
            for result in good:
                row = session.get(PackCheckRow, (repository_id, result.name))
                if row is None:
                    session.add(_row(repository_id, result))
                elif result.checked_at > row.checked_at:
                    row.checked_at = result.checked_at


def _row(repository_id: str, result: PackCheckResult) -> PackCheckRow:
    return PackCheckRow(
        repository_id=repository_id, pack=result.name, checked_at=result.checked_at, ok=True
    )
