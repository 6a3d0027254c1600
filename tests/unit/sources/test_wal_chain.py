"""Table tests for the chain check: gaps, timelines, unreachable recovery points."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from drkit.sources.wal_chain import ChainStatus, check_backup, check_chains
from drkit.sources.wal_names import segment_start
from tests.unit.sources.chainkit import SEG, SYSID, archive, at, backup, lsn

SWITCH_AT_5 = {2: [(1, lsn(5, 0x60))]}  # timeline 2 branched off 1 inside segment 5


@dataclass
class Case:
    name: str
    segments: dict[int, list[int]]
    start: int
    stop: int
    status: ChainStatus
    first_missing: str | None
    reach_segment: int  # targets before the start of this segment are reachable
    timelines: list[int] = field(default_factory=lambda: [1])
    histories: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    backup_timeline: int = 1


CASES = [
    Case("complete", {1: [1, 2, 3, 4, 5, 6]}, 2, 2, ChainStatus.OK, None, 7),
    Case("nothing after the stop yet", {1: [2]}, 2, 2, ChainStatus.OK, None, 3),
    Case(
        "gap inside the backup",
        {1: [1, 3, 4]},
        2,
        3,
        ChainStatus.BROKEN,
        "000000010000000000000002",
        2,
    ),
    Case(
        "stop segment never archived",
        {1: [2]},
        2,
        3,
        ChainStatus.BROKEN,
        "000000010000000000000003",
        3,
    ),
    Case(
        "gap after the stop",
        {1: [2, 3, 5, 6]},
        2,
        2,
        ChainStatus.TRUNCATED,
        "000000010000000000000004",
        4,
    ),
    Case(
        "across a timeline switch",
        {1: [2, 3, 4], 2: [5, 6]},
        2,
        2,
        ChainStatus.OK,
        None,
        7,
        timelines=[1, 2],
        histories=SWITCH_AT_5,
    ),
    Case(
        # recovery reads segment 5 from timeline 2 (the copy up to the switch point)
        "switch segment only on the old timeline",
        {1: [2, 3, 4, 5], 2: [6]},
        2,
        2,
        ChainStatus.TRUNCATED,
        "000000020000000000000005",
        5,
        timelines=[1, 2],
        histories=SWITCH_AT_5,
    ),
    Case(
        "backup on timeline 1 after the branch point follows timeline 1",
        {1: [5, 6, 7, 8], 2: [5, 6]},
        7,
        7,
        ChainStatus.OK,
        None,
        9,
        timelines=[1],
        histories=SWITCH_AT_5,
    ),
    Case(
        "backup on timeline 2",
        {2: [5, 6, 7]},
        6,
        6,
        ChainStatus.OK,
        None,
        8,
        timelines=[1, 2],
        histories=SWITCH_AT_5,
        backup_timeline=2,
    ),
    Case(
        "crossing into a new log",
        {1: [254, 255, 256, 257]},
        255,
        255,
        ChainStatus.OK,
        None,
        258,
    ),
    Case(
        "gap at a log boundary",
        {1: [254, 255, 257]},
        255,
        255,
        ChainStatus.TRUNCATED,
        "000000010000000100000000",
        256,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_backup_chain(case: Case) -> None:
    state = archive(case.segments, case.histories)
    chain = check_backup(backup("a", case.start, case.stop, case.backup_timeline), state)
    assert chain.status is case.status
    assert chain.first_missing == case.first_missing
    assert chain.timelines == case.timelines
    assert chain.reachable_until_lsn == segment_start(case.reach_segment, SEG)
    last_good = case.reach_segment - 1
    # the last commit before the gap (a minute before that segment was pushed)
    expected = at(last_good * 10 - 1) if last_good >= case.start else None
    assert chain.reachable_until_time == expected and chain.reachable_time_exact


def test_a_gap_makes_targets_unreachable_until_the_next_backup() -> None:
    state = archive({1: [2, 3, 5, 6, 7, 8, 9]})
    first, second = backup("a", 2, 2), backup("b", 6, 7)
    report = check_chains([first, second], {SYSID: state})
    assert [c.status for c in report.backups] == [ChainStatus.TRUNCATED, ChainStatus.OK]
    assert not report.ok
    (gap,) = report.unreachable
    assert gap.first_missing == "000000010000000000000004"
    assert gap.from_lsn == segment_start(4, SEG)
    assert gap.from_time == at(29)  # the last commit in segment 3, pushed at 30
    assert gap.until_backup == second.id
    assert gap.until_lsn == second.stop_lsn
    assert gap.until_time == second.stop_time


def test_a_gap_after_the_last_backup_is_unreachable_for_ever() -> None:
    state = archive({1: [2, 3, 4, 6, 7]})
    report = check_chains([backup("a", 2, 2), backup("b", 3, 3)], {SYSID: state})
    (gap,) = report.unreachable
    assert gap.first_missing == "000000010000000000000005"
    assert gap.until_backup is None and gap.until_lsn is None


def test_a_broken_backup_covers_nothing() -> None:
    state = archive({1: [2, 4, 5, 6]})
    report = check_chains([backup("a", 2, 3), backup("b", 4, 4)], {SYSID: state})
    assert [c.status for c in report.backups] == [ChainStatus.BROKEN, ChainStatus.OK]
    assert report.unreachable == []
    assert not report.ok


def test_clean_archive_is_ok() -> None:
    # timeline 2 begins inside segment 4: recovery reads 4 from timeline 2
    state = archive({1: [2, 3], 2: [4, 5, 6]}, {2: [(1, lsn(4))]})
    report = check_chains([backup("a", 2, 2)], {SYSID: state})
    assert report.ok
    assert report.issues == [] and report.unreachable == []


def test_timeline_without_history_is_an_error() -> None:
    report = check_chains([backup("a", 2, 2)], {SYSID: archive({1: [2, 3], 2: [4]})})
    assert not report.ok
    assert [(i.severity, i.name) for i in report.issues] == [("error", "00000002.history")]


def test_archive_without_backups_is_checked_for_histories_only() -> None:
    report = check_chains([], {SYSID: archive({1: [1, 3]})})
    assert report.ok and report.backups == []


def test_segments_without_commit_times_report_an_estimate() -> None:
    state = archive({1: [2, 3, 5]})
    state.no_commit_info.add((1, 3))
    chain = check_backup(backup("a", 2, 2), state)
    assert chain.reachable_until_time == at(30) and not chain.reachable_time_exact
