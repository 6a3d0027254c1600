"""Table tests for PITR planning: which base backup, which timeline, is the WAL there."""

from __future__ import annotations

from datetime import datetime

import pytest

from drkit.errors import UsageError
from drkit.repository.snapshot import Snapshot
from drkit.sources.pitr import RecoveryTarget, TargetKind, plan_restore
from drkit.sources.postgres_physical_meta import PhysicalBackup, PhysicalBackupInfo
from drkit.sources.wal_chain import ArchiveState
from drkit.sources.wal_errors import NoBaseBackup, WalMissingForTarget
from drkit.sources.wal_names import format_lsn
from tests.unit.sources.chainkit import SEG, SYSID, archive, at, backup, lsn


def physical(name: str, start: int, stop: int, timeline: int = 1) -> PhysicalBackup:
    point = backup(name, start, stop, timeline)
    info = PhysicalBackupInfo(
        system_identifier=SYSID,
        timeline=timeline,
        start_lsn=point.start_lsn,
        stop_lsn=point.stop_lsn,
        checkpoint_lsn=point.start_lsn,
        start_time=at(start * 10 - 8),
        stop_time=point.stop_time or at(0),
        wal_segment_size=SEG,
        server_version="15.8",
        backup_history_file="x.backup",
        stream="/postgres-physical/local:5432/base.tar",
    )
    snap = Snapshot(
        time=info.stop_time,
        tree=b"",
        paths=["/p"],
        hostname="h",
        username="u",
        id=point.id,
        meta=info.to_meta(),
    )
    return PhysicalBackup(snap, info)


A, B = physical("a", 2, 2), physical("b", 6, 6)  # consistent at minutes 15 and 55
FULL = {1: list(range(1, 12))}


def time_target(minute: float) -> RecoveryTarget:
    return RecoveryTarget(TargetKind.TIME, time=at(minute))


def lsn_target(segno: int, offset: int = 0x500) -> RecoveryTarget:
    return RecoveryTarget(TargetKind.LSN, lsn=lsn(segno, offset))


@pytest.mark.parametrize(
    ("target", "backup", "last_segment"),
    [
        # segment 3 was pushed at 30 but its last commit is at 29: recovery to 30 needs
        # the first commit after 30, in segment 4
        (time_target(30), A, "000000010000000000000004"),
        (time_target(28.5), A, "000000010000000000000003"),
        (time_target(54), A, "000000010000000000000006"),  # B is consistent only at 55
        (time_target(55), B, "000000010000000000000006"),
        (time_target(99), B, "00000001000000000000000B"),
        (lsn_target(4), A, "000000010000000000000004"),
        (lsn_target(6, 0x200), B, "000000010000000000000006"),
        (RecoveryTarget(TargetKind.LATEST), B, "000000010000000000000006"),
    ],
)
def test_newest_backup_before_the_target(
    target: RecoveryTarget, backup: PhysicalBackup, last_segment: str
) -> None:
    plan = plan_restore([A, B], target, archive(FULL))
    assert plan.backup is backup
    assert plan.last_segment == last_segment
    assert plan.timelines == [1]


@pytest.mark.parametrize(
    "target", [time_target(10), lsn_target(2, 0x50), RecoveryTarget(TargetKind.TIME, time=at(-5))]
)
def test_no_base_backup_before_the_target(target: RecoveryTarget) -> None:
    with pytest.raises(NoBaseBackup) as caught:
        plan_restore([A, B], target, archive(FULL))
    assert caught.value.exit_code == 26
    assert format_lsn(A.info.stop_lsn) in caught.value.message


def test_no_backups_at_all() -> None:
    with pytest.raises(NoBaseBackup):
        plan_restore([], RecoveryTarget(TargetKind.LATEST), archive(FULL))


@pytest.mark.parametrize(
    ("segments", "target", "missing"),
    [
        ({1: [2, 3, 5, 6]}, lsn_target(5), "000000010000000000000004"),
        ({1: [2, 3, 5, 6]}, time_target(45), "000000010000000000000004"),
        ({1: [3, 4]}, lsn_target(4), "000000010000000000000002"),  # the backup's own start
        # nothing committed after the target: the last commit is named
        ({1: [2, 3]}, time_target(45), "ended at 2026-11-24T08:29:00"),
        ({1: [2, 3, 4]}, time_target(39.5), "ended at 2026-11-24T08:39:00"),
    ],
)
def test_missing_wal_for_the_target(
    segments: dict[int, list[int]], target: RecoveryTarget, missing: str
) -> None:
    with pytest.raises(WalMissingForTarget) as caught:
        plan_restore([A], target, archive(segments))
    assert caught.value.exit_code == 25
    assert missing in caught.value.message


def test_latest_notes_a_gap_after_the_stop() -> None:
    plan = plan_restore([A], RecoveryTarget(TargetKind.LATEST), archive({1: [2, 3, 5]}))
    assert plan.backup is A
    assert any("000000010000000000000004" in note for note in plan.notes)


def test_timelines_latest_current_and_numbered() -> None:
    state = archive({1: [2, 3, 4], 2: [5, 6, 7]}, {2: [(1, lsn(5, 0x60))]})
    latest = plan_restore([A], RecoveryTarget(TargetKind.LSN, lsn=lsn(7)), state)
    assert latest.timelines == [1, 2]
    assert latest.last_segment == "000000020000000000000007"
    current = RecoveryTarget(TargetKind.LSN, lsn=lsn(4), timeline="current")
    assert plan_restore([A], current, state).timelines == [1]
    with pytest.raises(WalMissingForTarget):  # timeline 1 has no segment 5
        plan_restore([A], RecoveryTarget(TargetKind.LSN, lsn=lsn(5), timeline="1"), state)


def test_backup_off_the_target_timeline_is_not_chosen() -> None:
    state = archive({1: [5, 6, 7, 8], 2: [5, 6, 7]}, {2: [(1, lsn(5, 0x60))]})
    late_on_1 = physical("c", 7, 7)  # taken on timeline 1 after timeline 2 branched off
    with pytest.raises(NoBaseBackup):
        plan_restore([late_on_1], RecoveryTarget(TargetKind.LATEST, timeline="2"), state)
    assert plan_restore([late_on_1], RecoveryTarget(TargetKind.LATEST), state).timelines == [1]


@pytest.mark.parametrize(
    ("time", "lsn_text", "timeline", "kind"),
    [
        (None, None, None, TargetKind.LATEST),
        ("2026-11-24T08:15:00+00:00", None, None, TargetKind.TIME),
        ("2026-11-24 08:15:00.5 UTC", None, "current", TargetKind.TIME),
        (None, "0/3000060", "2", TargetKind.LSN),
    ],
)
def test_parse_target(
    time: str | None, lsn_text: str | None, timeline: str | None, kind: TargetKind
) -> None:
    target = RecoveryTarget.parse(time, lsn_text, timeline)
    assert target.kind is kind
    if time:
        assert isinstance(target.time, datetime) and target.time.utcoffset() is not None
    assert target.timeline == (timeline or "latest")


@pytest.mark.parametrize(
    ("time", "lsn_text", "timeline"),
    [
        ("2026-11-24T08:15:00", None, None),  # no zone
        ("yesterday", None, None),
        (None, "3000060", None),
        ("2026-11-24T08:15:00Z", "0/1", None),
        (None, None, "newest"),
    ],
)
def test_bad_targets(time: str | None, lsn_text: str | None, timeline: str | None) -> None:
    with pytest.raises(UsageError):
        RecoveryTarget.parse(time, lsn_text, timeline)


def test_empty_archive_state_has_no_timelines() -> None:
    assert ArchiveState(SYSID, SEG).timelines == set()


def test_lagging_archive_times_do_not_stretch_the_window() -> None:
    """Pushed minutes after the last commit: the push time is no recovery point."""
    state = archive({1: [2, 3]})
    state.segments[(1, 3)] = at(120)  # archived two hours late; last commit still at 29
    with pytest.raises(WalMissingForTarget) as caught:
        plan_restore([A], time_target(60), state)
    assert "ended at 2026-11-24T08:29:00" in caught.value.message


def test_segments_without_commit_times_fall_back_to_archive_times() -> None:
    state = archive({1: [2, 3, 4]})
    state.commits.clear()
    state.no_commit_info.update(state.segments)
    assert plan_restore([A], time_target(30), state).last_segment == "000000010000000000000003"
    with pytest.raises(WalMissingForTarget) as caught:
        plan_restore([A], time_target(45), state)
    assert "ends at about" in caught.value.message


def test_plan_lists_every_segment_recovery_fetches() -> None:
    plan = plan_restore([A], RecoveryTarget(TargetKind.LATEST), archive({1: [2, 3, 4, 6]}))
    assert plan.segments == tuple(f"00000001000000000000000{n}" for n in (2, 3, 4))
    plan = plan_restore([A], lsn_target(3), archive({1: [2, 3, 4, 6]}))
    assert plan.segments == ("000000010000000000000002", "000000010000000000000003")
