"""The recovery point of a physical source: the newest instant its archive really recovers to.

A base backup alone recovers to its stop; with the WAL archived after it,
recovery reaches the last commit of the newest segment that follows the
backup with no gap. So the recovery point is, over every base backup whose
own WAL is complete, the furthest that the chain check
(:func:`drkit.sources.wal_chain.check_backup`) lets it reach: the later of
the backup's stop and the last commit/abort recorded in its reachable
segments. A missing segment, or one the caller found damaged and left out of
the archive state, ends the chain there: the point is the one before the
gap, never the newest segment archived beyond it.

Pure: the gathering (which segments exist and are intact, their commit
times) is :mod:`drkit.sources.wal_rpo_measure`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drkit.sources.wal_chain import (
    ArchiveState,
    BackupChain,
    BackupPoint,
    ChainStatus,
    backup_path,
    check_backup,
)
from drkit.sources.wal_names import segment_name, segment_of
from drkit.sources.wal_timeline import timeline_for_segment


@dataclass(frozen=True)
class RecoveryPoint:
    """How far one cluster's archive recovers, from which backup, and what stops it."""

    system_id: int
    time: datetime | None  # None: no base backup whose own WAL is complete
    backup_id: str | None
    last_segment: str | None  # the newest segment recovery replays
    gap: str | None  # the first missing or damaged segment that ends the chain early
    exact: bool = True  # False: some segment lacks its commit time (an older drkit)

    def sentence(self) -> str:
        """What a person reads in status and alerts."""
        if self.time is None:
            why = f": {self.gap} is missing or damaged" if self.gap else ""
            return f"cluster {self.system_id}: no base backup can be recovered{why}"
        text = f"cluster {self.system_id} recovers to {self.time.isoformat(timespec='seconds')}"
        if self.last_segment:
            text += f" (WAL up to {self.last_segment})"
        if self.gap:
            text += (
                f"; WAL segment {self.gap} is missing or damaged, so nothing archived after "
                "it can be replayed"
            )
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "system_id": str(self.system_id),
            "time": self.time.isoformat() if self.time else None,
            "backup": self.backup_id,
            "last_segment": self.last_segment,
            "gap": self.gap,
            "exact": self.exact,
            "text": self.sentence(),
        }


def recovery_point(
    backups: list[BackupPoint], archive: ArchiveState, stop_times: dict[str, datetime]
) -> RecoveryPoint:
    """The furthest recovery any of ``backups`` (one cluster's) reaches in ``archive``.

    ``stop_times``: backup id -> the server's clock at the backup's end, which the
    backup alone recovers to (a backup in an idle cluster has no later commit).
    """
    chains = [(b, check_backup(b, archive)) for b in backups]
    usable = [(b, c) for b, c in chains if c.status is not ChainStatus.BROKEN]
    if not usable:
        newest = max(chains, key=lambda bc: bc[0].stop_lsn, default=None)
        gap = newest[1].first_missing if newest else None
        return RecoveryPoint(archive.system_id, None, None, None, gap)
    backup, chain = max(usable, key=lambda bc: (bc[1].reachable_until_lsn, bc[0].stop_lsn))
    times = [t for t in (stop_times.get(backup.id), chain.reachable_until_time) if t]
    return RecoveryPoint(
        archive.system_id,
        max(times) if times else None,
        backup.id,
        _last_segment(backup, chain, archive),
        chain.first_missing,
        chain.reachable_time_exact,
    )


def _last_segment(backup: BackupPoint, chain: BackupChain, archive: ArchiveState) -> str | None:
    size = backup.segment_size
    last = segment_of(chain.reachable_until_lsn, size) - 1
    if last < segment_of(backup.start_lsn, size):
        return None
    path = backup_path(backup, archive)
    return segment_name(timeline_for_segment(last, path, size), last, size)


def segments_to_read(backups: list[BackupPoint], archive: ArchiveState) -> list[tuple[int, int]]:
    """The segments (timeline, number) the best chain replays: those to prove intact (pure)."""
    chains = [(b, check_backup(b, archive)) for b in backups]
    usable = [(b, c) for b, c in chains if c.status is not ChainStatus.BROKEN]
    if not usable:
        return []
    backup, chain = max(usable, key=lambda bc: (bc[1].reachable_until_lsn, bc[0].stop_lsn))
    size = backup.segment_size
    path = backup_path(backup, archive)
    first, end = segment_of(backup.start_lsn, size), segment_of(chain.reachable_until_lsn, size)
    return [(timeline_for_segment(n, path, size), n) for n in range(first, end)]
