"""Planning a point-in-time recovery: which base backup, which timeline, is the WAL there?

``drkit pg restore`` asks :func:`plan_restore` before it writes anything.
The plan picks the newest base backup that is consistent before the target
(its stop time or stop LSN precedes it) on the timeline path recovery will
follow, and checks that the archive holds every WAL segment from the
backup's start to the target:

* ``--target-lsn L``: every segment up to the one holding L;
* ``--target-time T``: every segment up to the first one holding a commit
  or abort after T (PostgreSQL stops there; commit times are read from the
  WAL at push). A target past the archive's last commit is refused with that
  commit's time: PostgreSQL could not reach it. Segments pushed by an older
  drkit lack commit times; for them the first segment archived at or after T
  stands in, an estimate;
* latest: every segment up to the backup's stop; recovery then replays
  whatever follows without a gap, and the plan says where that ends.

Pure functions of the backups' metadata and the archive listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from drkit.errors import UsageError
from drkit.sources.postgres_physical_meta import PhysicalBackup
from drkit.sources.wal_chain import ArchiveState, archive_end, last_reachable_time
from drkit.sources.wal_errors import NoBaseBackup, WalMissingForTarget
from drkit.sources.wal_names import format_lsn, parse_lsn, segment_name, segment_of
from drkit.sources.wal_timeline import (
    TimelineSpan,
    covers,
    newest_timeline_through,
    timeline_for_segment,
    timeline_path,
)


class TargetKind(StrEnum):
    LATEST = "latest"
    TIME = "time"
    LSN = "lsn"


@dataclass(frozen=True)
class RecoveryTarget:
    """Where recovery stops, and which timeline it follows (``latest``, ``current`` or N)."""

    kind: TargetKind
    time: datetime | None = None
    lsn: int | None = None
    timeline: str = "latest"

    @classmethod
    def parse(cls, time: str | None, lsn: str | None, timeline: str | None) -> RecoveryTarget:
        tli = (timeline or "latest").lower()
        if tli not in ("latest", "current") and not tli.isdigit():
            raise UsageError(f"bad --target-timeline {timeline!r}", hint="latest, current or N")
        if time and lsn:
            raise UsageError("give --target-time or --target-lsn, not both")
        if lsn:
            try:
                return cls(TargetKind.LSN, lsn=parse_lsn(lsn), timeline=tli)
            except ValueError as exc:
                raise UsageError(str(exc), hint="an LSN looks like 0/3000060") from None
        if time:
            return cls(TargetKind.TIME, time=_parse_time(time), timeline=tli)
        return cls(TargetKind.LATEST, timeline=tli)

    def describe(self) -> str:
        if self.kind is TargetKind.TIME and self.time is not None:
            return f"time {self.time.isoformat()}"
        if self.kind is TargetKind.LSN and self.lsn is not None:
            return f"LSN {format_lsn(self.lsn)}"
        return "the end of the archived WAL"


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise UsageError(
            f"bad --target-time {text!r}",
            hint="use ISO 8601 with a zone: 2026-11-24T08:15:00+00:00",
        ) from None
    if value.tzinfo is None:
        raise UsageError(
            f"--target-time {text!r} has no time zone",
            hint="add one (+00:00, Z) so the server and drkit mean the same instant",
        )
    return value


@dataclass(frozen=True)
class RestorePlan:
    backup: PhysicalBackup
    target: RecoveryTarget
    timelines: list[int]  # the path recovery follows, oldest first
    last_segment: str  # the last segment recovery is known to need
    notes: list[str] = field(default_factory=list)
    segments: tuple[str, ...] = ()  # every segment recovery will fetch, in order


def plan_restore(
    backups: list[PhysicalBackup], target: RecoveryTarget, archive: ArchiveState
) -> RestorePlan:
    """Choose the base backup for ``target`` and check the WAL to reach it is archived."""
    backup, path = choose_backup(backups, target, archive)
    size = backup.info.wal_segment_size
    start = segment_of(backup.info.start_lsn, size)
    stop = segment_of(backup.info.stop_lsn, size)
    notes: list[str] = []
    if target.kind is TargetKind.LSN and target.lsn is not None:
        last = segment_of(target.lsn, size)
    elif target.kind is TargetKind.TIME:
        last = _last_for_time(target, path, archive, start, size)
    else:
        last, notes = stop, _latest_notes(path, archive, stop, size)
    _require_segments(backup, path, archive, start, max(last, stop), target)
    until = (
        max(last, stop)
        if target.kind is not TargetKind.LATEST
        else _contiguous_end(path, archive, stop, size)
    )
    return RestorePlan(
        backup,
        target,
        [s.timeline for s in path],
        segment_name(timeline_for_segment(last, path, size), last, size),
        notes,
        tuple(
            segment_name(timeline_for_segment(n, path, size), n, size)
            for n in range(start, until + 1)
        ),
    )


def _contiguous_end(path: list[TimelineSpan], archive: ArchiveState, stop: int, size: int) -> int:
    """The last segment of the unbroken run from ``stop`` on (what ``latest`` replays)."""
    end = archive_end(path, archive, size)
    for segno in range(stop, end + 1):
        if (timeline_for_segment(segno, path, size), segno) not in archive.segments:
            return segno - 1
    return end


def choose_backup(
    backups: list[PhysicalBackup], target: RecoveryTarget, archive: ArchiveState
) -> tuple[PhysicalBackup, list[TimelineSpan]]:
    """The newest backup consistent before ``target`` on the path recovery follows."""
    for backup in sorted(backups, key=lambda b: b.info.stop_lsn, reverse=True):
        path = _path_for(backup, target, archive)
        info = backup.info
        if not covers(path, info.timeline, info.start_lsn):
            continue
        if target.kind is TargetKind.TIME and target.time and info.stop_time > target.time:
            continue
        if target.kind is TargetKind.LSN and target.lsn is not None and info.stop_lsn > target.lsn:
            continue
        return backup, path
    raise NoBaseBackup(_no_backup_message(backups, target))


def _path_for(
    backup: PhysicalBackup, target: RecoveryTarget, archive: ArchiveState
) -> list[TimelineSpan]:
    info = backup.info
    if target.timeline == "current":
        return timeline_path(info.timeline, archive.histories)
    if target.timeline.isdigit():
        return timeline_path(int(target.timeline), archive.histories)
    known = archive.timelines | set(archive.histories)
    newest = newest_timeline_through(info.timeline, info.start_lsn, known, archive.histories)
    return timeline_path(newest, archive.histories)


def _no_backup_message(backups: list[PhysicalBackup], target: RecoveryTarget) -> str:
    if not backups:
        return "the repository holds no PostgreSQL base backup of this cluster"
    oldest = min(backups, key=lambda b: b.info.stop_lsn).info
    return (
        f"no base backup is consistent before {target.describe()} on timeline "
        f"{target.timeline}; the oldest ended at {oldest.stop_time.isoformat()} "
        f"(LSN {format_lsn(oldest.stop_lsn)}, timeline {oldest.timeline})"
    )


def _last_for_time(
    target: RecoveryTarget, path: list[TimelineSpan], archive: ArchiveState, start: int, size: int
) -> int:
    """The segment where recovery to the target time stops (pure).

    PostgreSQL stops at a time target on the first commit or abort recorded after
    it; the segment holding one is the last recovery needs. Segments pushed by an
    older drkit carry no commit times: there the first segment archived at or
    after the target stands in (an estimate).
    """
    assert target.time is not None
    end = archive_end(path, archive, size)
    segno = start
    while segno <= end:
        key = (timeline_for_segment(segno, path, size), segno)
        if key not in archive.segments:
            break  # a gap: recovery stops before it
        if key in archive.no_commit_info:
            pushed = archive.segments.get(key)
            if pushed is not None and pushed >= target.time:
                return segno
        elif (commit := archive.commits.get(key)) is not None and commit > target.time:
            return segno
        segno += 1
    last, exact = last_reachable_time(archive, path, size, start, segno - 1)
    if not exact:
        raise WalMissingForTarget(
            f"the WAL archive ends at about {last.isoformat() if last else 'an unknown time'}: "
            f"no archived WAL was written after {target.describe()}, so recovery cannot be "
            "shown to reach it"
        )
    if segno <= end:
        name = segment_name(timeline_for_segment(segno, path, size), segno, size)
        raise WalMissingForTarget(
            f"WAL segment {name} is not in the archive: recovery cannot reach "
            f"{target.describe()}; the last reachable point is the transaction that ended "
            f"at {_stamp(last)}"
        )
    raise WalMissingForTarget(
        f"recovery cannot reach {target.describe()}: the last transaction recorded in the "
        f"archived WAL ended at {_stamp(last)}; choose a --target-time before it",
        hint="PostgreSQL stops at a time only on a commit after it; if the server has "
        "committed since, its WAL is not archived yet (`SELECT pg_switch_wal()`)",
    )


def _stamp(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "an unknown time (no commit recorded)"


def _latest_notes(
    path: list[TimelineSpan], archive: ArchiveState, stop: int, size: int
) -> list[str]:
    end = archive_end(path, archive, size)
    for segno in range(stop, end + 1):
        tli = timeline_for_segment(segno, path, size)
        if (tli, segno) not in archive.segments:
            return [
                f"recovery will stop before {segment_name(tli, segno, size)}, which is missing; "
                "WAL archived after it cannot be replayed"
            ]
    return []


def _require_segments(
    backup: PhysicalBackup,
    path: list[TimelineSpan],
    archive: ArchiveState,
    first: int,
    last: int,
    target: RecoveryTarget,
) -> None:
    size = backup.info.wal_segment_size
    for segno in range(first, last + 1):
        tli = timeline_for_segment(segno, path, size)
        if (tli, segno) not in archive.segments:
            name = segment_name(tli, segno, size)
            raise WalMissingForTarget(
                f"WAL segment {name}, needed to recover base backup "
                f"{backup.snapshot.short_id} to {target.describe()}, is not in the archive"
            )
