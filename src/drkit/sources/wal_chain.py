"""Backup chain validation: can each base backup be recovered, and up to where?

For every physical base backup the WAL from its start onward must be
archived with no gap along a consistent timeline history. A gap between
the backup's start and stop segments makes the backup unusable (it never
becomes consistent); a gap after its stop caps its recovery window at the
gap. Recovery targets that no backup's window reaches are reported as
unreachable ranges: from the first missing segment until the next base
backup that ends after it (or for ever, when none does).

Everything here is a pure function of the archive's listing and the
backups' metadata; :mod:`drkit.sources.wal_inventory` gathers those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from drkit.sources.wal_names import HistoryEntry, segment_name, segment_of, segment_start
from drkit.sources.wal_timeline import (
    TimelineIssue,
    TimelineSpan,
    fork_warnings,
    history_issues,
    newest_timeline_through,
    timeline_for_segment,
    timeline_path,
)


class ChainStatus(StrEnum):
    OK = "ok"  # every segment from start to the end of the archive is there
    TRUNCATED = "truncated"  # restorable, but its window ends at a gap after its stop
    BROKEN = "broken"  # a segment between its start and stop is missing: not restorable


@dataclass(frozen=True)
class BackupPoint:
    """What the chain check needs of one base backup (from its snapshot's meta)."""

    id: str
    system_id: int
    timeline: int
    start_lsn: int
    stop_lsn: int
    segment_size: int
    stop_time: datetime | None = None


@dataclass
class ArchiveState:
    """One cluster's WAL archive as listed: segments with their push time, histories."""

    system_id: int
    segment_size: int
    segments: dict[tuple[int, int], datetime | None] = field(default_factory=dict)
    # the latest commit/abort time inside each segment that has one (recorded at push);
    # segments pushed before drkit recorded it are in ``no_commit_info``
    commits: dict[tuple[int, int], datetime] = field(default_factory=dict)
    no_commit_info: set[tuple[int, int]] = field(default_factory=set)
    histories: dict[int, list[HistoryEntry]] = field(default_factory=dict)
    unreadable_histories: dict[int, str] = field(default_factory=dict)

    @property
    def timelines(self) -> set[int]:
        return {tli for tli, _ in self.segments}


@dataclass(frozen=True)
class BackupChain:
    """The verdict on one backup."""

    backup_id: str
    system_id: int
    status: ChainStatus
    timelines: list[int]  # the timeline path followed (oldest first)
    start_segment: str
    stop_segment: str
    first_missing: str | None
    segments_checked: int
    reachable_until_lsn: int  # recovery targets before this LSN can be reached
    # targets before this time can be reached: the last commit/abort recorded before the
    # gap (or the end of the archive); when segments lack commit times, when WAL was archived
    reachable_until_time: datetime | None
    reachable_time_exact: bool = True  # False: estimated from archive times


@dataclass(frozen=True)
class UnreachableRange:
    """Recovery targets no backup can reach: from a gap until a later backup's stop."""

    system_id: int
    timeline: int
    first_missing: str
    from_lsn: int
    from_time: datetime | None  # the last commit recorded before the gap
    until_lsn: int | None  # None: up to the end of the archive and beyond
    until_time: datetime | None
    until_backup: str | None
    from_time_exact: bool = True  # False: from_time is an archive time (an estimate)


@dataclass
class ChainReport:
    backups: list[BackupChain] = field(default_factory=list)
    unreachable: list[UnreachableRange] = field(default_factory=list)
    issues: list[TimelineIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(b.status is ChainStatus.OK for b in self.backups) and not any(
            i.severity == "error" for i in self.issues
        )


def check_chains(backups: list[BackupPoint], archives: dict[int, ArchiveState]) -> ChainReport:
    """The chain report over every cluster that has backups or archived WAL."""
    report = ChainReport()
    for sysid in sorted(archives.keys() | {b.system_id for b in backups}):
        mine = sorted((b for b in backups if b.system_id == sysid), key=lambda b: b.start_lsn)
        size = mine[0].segment_size if mine else 0
        archive = archives.get(sysid) or ArchiveState(sysid, size)
        _check_cluster(mine, archive, report)
    return report


def _check_cluster(backups: list[BackupPoint], archive: ArchiveState, report: ChainReport) -> None:
    timelines = archive.timelines | {b.timeline for b in backups}
    report.issues.extend(history_issues(timelines, archive.histories, archive.unreadable_histories))
    if archive.segment_size:
        segs = set(archive.segments)
        report.issues.extend(fork_warnings(segs, archive.histories, archive.segment_size))
    chains = [(b, check_backup(b, archive)) for b in backups]
    report.backups.extend(c for _, c in chains)
    report.unreachable.extend(unreachable_ranges(chains, archive))


def backup_path(backup: BackupPoint, archive: ArchiveState) -> list[TimelineSpan]:
    """The timeline path recovery from ``backup`` follows (the newest through it)."""
    target = newest_timeline_through(
        backup.timeline,
        backup.start_lsn,
        archive.timelines | set(archive.histories),
        archive.histories,
    )
    return timeline_path(target, archive.histories)


def archive_end(path: list[TimelineSpan], archive: ArchiveState, size: int) -> int:
    """The last segment number archived along ``path`` (-1 when there is none)."""
    return max(
        (s for tli, s in archive.segments if timeline_for_segment(s, path, size) == tli),
        default=-1,
    )


def check_backup(backup: BackupPoint, archive: ArchiveState) -> BackupChain:
    """Walk the segments from the backup's start to the end of the archive."""
    size = backup.segment_size
    path = backup_path(backup, archive)
    start, stop = segment_of(backup.start_lsn, size), segment_of(backup.stop_lsn, size)
    end = max(archive_end(path, archive, size), stop)
    missing: int | None = None
    for segno in range(start, end + 1):
        if (timeline_for_segment(segno, path, size), segno) not in archive.segments:
            missing = segno
            break
    last_good = (missing if missing is not None else end + 1) - 1
    reach = last_reachable_time(archive, path, size, start, last_good)
    status = ChainStatus.OK
    if missing is not None:
        status = ChainStatus.BROKEN if missing <= stop else ChainStatus.TRUNCATED
    return BackupChain(
        backup_id=backup.id,
        system_id=backup.system_id,
        status=status,
        timelines=[s.timeline for s in path],
        start_segment=_name(start, path, size),
        stop_segment=_name(stop, path, size),
        first_missing=_name(missing, path, size) if missing is not None else None,
        segments_checked=last_good - start + 1 + (missing is not None),
        reachable_until_lsn=segment_start(last_good + 1, size),
        reachable_until_time=reach[0],
        reachable_time_exact=reach[1],
    )


def last_reachable_time(
    archive: ArchiveState, path: list[TimelineSpan], size: int, first: int, last: int
) -> tuple[datetime | None, bool]:
    """The latest commit/abort time in segments ``first..last`` along ``path`` (pure).

    ``(time, True)`` from the commit times recorded at push; when some segment
    of the range has none recorded (pushed by an older drkit), ``(archive time of
    the last segment, False)``, an estimate that can overstate the window.
    """
    if last < first:
        return None, True
    keys = [(timeline_for_segment(n, path, size), n) for n in range(first, last + 1)]
    if any(k in archive.no_commit_info for k in keys):
        return archive.segments.get(keys[-1]), False
    times = [archive.commits[k] for k in keys if k in archive.commits]
    return (max(times) if times else None), True


def _name(segno: int, path: list[TimelineSpan], size: int) -> str:
    return segment_name(timeline_for_segment(segno, path, size), segno, size)


def unreachable_ranges(
    chains: list[tuple[BackupPoint, BackupChain]], archive: ArchiveState
) -> list[UnreachableRange]:
    """Targets between a gap and the next usable backup's stop, per timeline path."""
    ranges: list[UnreachableRange] = []
    by_path: dict[int, list[tuple[BackupPoint, BackupChain]]] = {}
    for backup, chain in chains:
        if chain.status is not ChainStatus.BROKEN:
            by_path.setdefault(chain.timelines[-1], []).append((backup, chain))
    for target, members in sorted(by_path.items()):
        ranges.extend(_gaps_along(target, sorted(members, key=lambda m: m[0].stop_lsn), archive))
    return ranges


def _gaps_along(
    target: int, members: list[tuple[BackupPoint, BackupChain]], archive: ArchiveState
) -> list[UnreachableRange]:
    found: list[UnreachableRange] = []
    covered: BackupChain | None = None  # the window reaching furthest so far
    for backup, chain in members:
        if (
            covered is not None
            and covered.first_missing
            and backup.stop_lsn > (covered.reachable_until_lsn)
        ):
            found.append(_range(target, covered, backup, archive))
        if covered is None or chain.reachable_until_lsn > covered.reachable_until_lsn:
            covered = chain
    if covered is not None and covered.first_missing:
        found.append(_range(target, covered, None, archive))
    return found


def _range(
    target: int, before: BackupChain, after: BackupPoint | None, archive: ArchiveState
) -> UnreachableRange:
    return UnreachableRange(
        system_id=archive.system_id,
        timeline=target,
        first_missing=before.first_missing or "",
        from_lsn=before.reachable_until_lsn,
        from_time=before.reachable_until_time,
        from_time_exact=before.reachable_time_exact,
        until_lsn=after.stop_lsn if after else None,
        until_time=after.stop_time if after else None,
        until_backup=after.id if after else None,
    )
