"""Builders for the chain and PITR table tests: archives and backups as plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drkit.sources.wal_chain import ArchiveState, BackupPoint
from drkit.sources.wal_names import HistoryEntry, segment_start

SEG = 16 * 1024 * 1024
SYSID = 7000000000000000001
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def lsn(segno: int, offset: int = 0x28) -> int:
    return segment_start(segno, SEG) + offset


def archive(
    segments: dict[int, list[int]],
    histories: dict[int, list[tuple[int, int]]] | None = None,
) -> ArchiveState:
    """``segments``: timeline -> segment numbers; each pushed at minute = segno * 10, its
    last commit a minute before."""
    state = ArchiveState(SYSID, SEG)
    for tli, numbers in segments.items():
        for segno in numbers:
            state.segments[(tli, segno)] = at(segno * 10)
            state.commits[(tli, segno)] = at(segno * 10 - 1)
    for tli, entries in (histories or {}).items():
        state.histories[tli] = [HistoryEntry(p, sw) for p, sw in entries]
    return state


def backup(name: str, start: int, stop: int, timeline: int = 1) -> BackupPoint:
    """A backup from segment ``start`` to ``stop``, consistent at minute stop * 10 - 5."""
    return BackupPoint(
        id=name * 8,
        system_id=SYSID,
        timeline=timeline,
        start_lsn=lsn(start),
        stop_lsn=lsn(stop, 0x100),
        segment_size=SEG,
        stop_time=at(stop * 10 - 5),
    )
