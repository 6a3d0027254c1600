"""Copying the WAL archive along with snapshots, so a copy can do point-in-time recovery.

Base backups travel with `drkit copy` like any snapshot; without their WAL an
off-site copy could only restore to the end of each base backup. Each WAL
file missing in the destination is read (authenticated) from the source and
pushed into the destination under its own keys; files already there are
skipped by name, and a name holding other content is refused as by
`wal-push` (the destination keeps what it has).
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.repository.repo import Repository
from drkit.sources.wal_archive import PushOutcome, WalArchive


@dataclass(frozen=True)
class WalCopyStats:
    copied: int
    skipped: int
    bytes: int


def copy_wal(src: Repository, dst: Repository) -> WalCopyStats:
    """Copy every WAL file of ``src`` that ``dst`` lacks; return what was done."""
    source, destination = WalArchive(src), WalArchive(dst)
    present = {f.object_name for f in destination.list()}
    copied = skipped = nbytes = 0
    for file in source.list():
        if file.object_name in present:
            skipped += 1
            continue
        data = source.fetch(file.system_id, file.name)
        if destination.push(file.system_id, file.name, data) is PushOutcome.ALREADY_ARCHIVED:
            skipped += 1
            continue
        copied, nbytes = copied + 1, nbytes + len(data)
    return WalCopyStats(copied, skipped, nbytes)
