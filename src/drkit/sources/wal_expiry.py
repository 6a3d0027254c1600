"""Which archived WAL no base backup can use any more: the archive's retention.

WAL is kept from the start segment of each cluster's oldest base backup
onwards (``forget`` decides which base backups stay; this follows it). Older
segments, partial segments and backup history files are of no use to any
recovery and are removed. Timeline history files are always kept: they are
small and recovery reads them to follow a timeline switch. A cluster with no
base backup in the repository keeps all its WAL: drkit never guesses which
WAL a future backup will need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drkit.sources.postgres_physical_meta import PhysicalBackup
from drkit.sources.wal_archive import ArchivedFile
from drkit.sources.wal_names import WalFileKind, segment_name, segment_of


@dataclass(frozen=True)
class ExpiryPlan:
    remove: tuple[ArchivedFile, ...]
    keep_from: dict[int, str]  # system id -> first segment kept (named on timeline 1 terms)
    kept: int


def plan_expiry(files: Sequence[ArchivedFile], backups: Sequence[PhysicalBackup]) -> ExpiryPlan:
    """The WAL files older than every base backup of their cluster (pure)."""
    boundary: dict[int, tuple[int, int]] = {}  # system id -> (first segno kept, segment size)
    for b in backups:
        info = b.info
        segno = segment_of(info.start_lsn, info.wal_segment_size)
        known = boundary.get(info.system_identifier)
        if known is None or segno < known[0]:
            boundary[info.system_identifier] = (segno, info.wal_segment_size)
    remove = [f for f in files if _expired(f, boundary)]
    keep_from = {sysid: segment_name(1, segno, size) for sysid, (segno, size) in boundary.items()}
    return ExpiryPlan(tuple(remove), keep_from, len(files) - len(remove))


def _expired(file: ArchivedFile, boundary: dict[int, tuple[int, int]]) -> bool:
    if file.parsed.kind is WalFileKind.HISTORY or file.system_id not in boundary:
        return False
    first_kept, size = boundary[file.system_id]
    return file.parsed.segment_number(size) < first_kept
