"""Copying snapshots from one repository to another, without reading the source again.

:func:`copy` is ``drkit copy`` for every face: snapshots keep their id and
time, blobs the destination has are not sent again, and a whole-repository
copy takes the WAL archive along (so the copy can do PITR). Both repositories
are locked (shared) for the duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drkit.errors import UsageError
from drkit.repository.copy import CopyStats, IdMap, SnapshotCopier
from drkit.repository.locks import RepoLock
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.repository.writer import BlobWriter
from drkit.services.progress import SILENT, Counter, Progress

if TYPE_CHECKING:
    from drkit.repository.repo import Repository
    from drkit.services.workspace import Workspace
    from drkit.sources.wal_copy import WalCopyStats


@dataclass(frozen=True)
class CopySpec:
    """From where to where, and which snapshots (none named: all the destination lacks)."""

    source: str  # a drkit.yaml name or a URL
    destination: str
    snapshots: list[str] = field(default_factory=list)  # id prefixes or `latest`
    destination_password: str | None = None  # a URL with its own passphrase


@dataclass(frozen=True)
class CopyResult:
    """What was copied, what the destination already had, and what it cost."""

    copied: list[Snapshot]
    skipped: int
    stats: CopyStats
    wal_copied: int = 0
    wal_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "copied": [s.id for s in self.copied],
            "skipped": self.skipped,
            "blobs_read": self.stats.blobs_read,
            "blobs_added": self.stats.blobs_added,
            "bytes_added": self.stats.bytes_added,
            "wal_copied": self.wal_copied,
        }


def copy(workspace: Workspace, spec: CopySpec, progress: Progress = SILENT) -> CopyResult:
    """Copy the snapshots of ``spec`` (and, copying all, the WAL archive) under shared locks."""
    if not spec.destination:
        raise UsageError("no destination given", hint="pass --to NAME or --to URL")
    if not spec.source:
        raise UsageError("no source given", hint="pass --from NAME|URL or --repo")
    src = workspace.open_ref(spec.source)
    dst = workspace.open_ref(spec.destination, password=spec.destination_password)
    if src.config.id == dst.config.id:
        raise UsageError("source and destination are the same repository")
    with (
        RepoLock(src, exclusive=False, operation="copy", load_index=True),
        RepoLock(dst, exclusive=False, operation="copy", load_index=True),
    ):
        copier = SnapshotCopier(
            src, dst, BlobWriter(dst), IdMap.for_pair(src, dst), Counter(progress)
        )
        available = src.snapshots(
            on_damaged=lambda name, exc: progress.warn(f"snapshot {name[:8]}: {exc}")
        )
        chosen = [find_snapshot(available, ref) for ref in spec.snapshots] or available
        todo = copier.missing(chosen)
        progress.phase("copy")
        copier.copy(todo)
        wal = _copy_wal(src, dst, bool(spec.snapshots))
    return CopyResult(todo, len(chosen) - len(todo), copier.stats, wal.copied, wal.bytes)


def _copy_wal(src: Repository, dst: Repository, only_snapshots: bool) -> WalCopyStats:
    """The WAL archive goes along (a whole-repository copy), so the copy can do PITR."""
    from drkit.sources.wal_copy import WalCopyStats, copy_wal

    if only_snapshots:
        return WalCopyStats(0, 0, 0)
    return copy_wal(src, dst)
