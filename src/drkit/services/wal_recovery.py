"""The recovery point of a physical PostgreSQL source in a repository, for status and pg check.

:func:`drkit.sources.wal_rpo_measure.measure_recovery` does the work; this
module chooses the source's base backups among a repository's snapshots and
keeps the proof of intact WAL objects in the catalog (``wal_proved``), so a
status reads only the segments archived since the last one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from drkit.catalog.types import utcnow
from drkit.policy.membership import covers
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.sources.postgres_physical_meta import SOURCE_TYPE, physical_backups
from drkit.sources.registry import PolicySource, source_labels
from drkit.sources.wal_rpo import RecoveryPoint
from drkit.sources.wal_rpo_measure import (
    Measurement,
    NoLedger,
    ProvedWal,
    WalLedger,
    measure_recovery,
)

if TYPE_CHECKING:  # SQLAlchemy only when a physical source's WAL is measured
    from drkit.catalog import Catalog


class CatalogWalLedger:
    """:class:`WalLedger` over the catalog's ``wal_proved`` table; given a function that
    opens the catalog, it is opened on first use (a status without physical sources never
    opens it)."""

    def __init__(self, catalog: Catalog | Callable[[], Catalog]) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        if callable(self._catalog):
            self._catalog = self._catalog()
        return self._catalog

    def proved(self, repository_id: str) -> Mapping[str, ProvedWal]:
        from sqlalchemy import select

        from drkit.catalog.tables import WalProvedRow

        query = select(WalProvedRow).where(WalProvedRow.repository_id == repository_id)
        with self.catalog.session() as session:
            return {
                r.name: ProvedWal(r.name, r.size, r.last_xact_ns, r.proved_at)
                for r in session.scalars(query)
            }

    def record(self, repository_id: str, proved: Iterable[ProvedWal]) -> None:
        todo = list(proved)
        if not todo:
            return
        from drkit.catalog.tables import WalProvedRow

        now = utcnow()
        with self.catalog.session() as session:
            for p in todo:
                row = session.get(WalProvedRow, (repository_id, p.name))
                if row is None:
                    row = WalProvedRow(repository_id=repository_id, name=p.name)
                    session.add(row)
                row.size, row.last_xact_ns, row.proved_at = p.size, p.last_xact_ns, now

    def forget(self, repository_id: str, names: Iterable[str]) -> None:
        gone = list(names)
        if not gone:
            return
        from drkit.catalog.tables import WalProvedRow

        with self.catalog.session() as session:
            for name in gone:
                row = session.get(WalProvedRow, (repository_id, name))
                if row is not None:
                    session.delete(row)


def ledger_of(catalog: Catalog | None) -> WalLedger:
    return CatalogWalLedger(catalog) if catalog is not None else NoLedger()


def physical_labels(sources: Sequence[PolicySource]) -> set[str]:
    """The labels of a policy's postgres-physical sources."""
    labels = source_labels(sources)
    return {
        label
        for label, s in zip(labels, sources, strict=True)
        if getattr(s, "type", None) == SOURCE_TYPE
    }


def source_recovery(
    repo: Repository, snapshots: list[Snapshot], source: str, ledger: WalLedger
) -> RecoveryPoint | None:
    """The recovery point of physical source ``source`` in ``repo``: of the cluster its
    newest base backup belongs to (a cluster re-created by initdb starts a new archive)."""
    backups, _bad = physical_backups([s for s in snapshots if covers(s, source) and s.complete])
    if not backups:
        return None
    newest = max(backups, key=lambda b: b.info.stop_time).info.system_identifier
    found = measure_recovery(repo, backups, ledger, [newest])
    return found.points[0]


def cluster_recovery(
    repo: Repository,
    system_id: int,
    ledger: WalLedger,
    *,
    reprove_before: datetime | None = None,
) -> Measurement:
    """The recovery point of cluster ``system_id`` in ``repo`` (for ``pg check``): proofs
    older than ``reprove_before`` are read again, and withdrawn if they no longer hold."""
    backups, _bad = physical_backups(repo.snapshots(on_damaged=lambda *_: None))
    return measure_recovery(repo, backups, ledger, [system_id], reprove_before=reprove_before)


def forget_damaged(catalog: Catalog | None, repository_id: str, names: Iterable[str]) -> None:
    """Withdraw the proofs of WAL objects a read found damaged (``check --chain --read-data``)."""
    ledger_of(catalog).forget(repository_id, names)
