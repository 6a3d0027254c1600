"""Table tests: timeline paths, which file recovery reads, history consistency, forks."""

from __future__ import annotations

import pytest

from drkit.sources.wal_names import HistoryEntry
from drkit.sources.wal_timeline import (
    TimelineSpan,
    covers,
    fork_warnings,
    history_issues,
    newest_timeline_through,
    timeline_for_segment,
    timeline_path,
)
from tests.unit.sources.chainkit import SEG, lsn

H = {
    2: [HistoryEntry(1, lsn(5, 0x60))],
    3: [HistoryEntry(1, lsn(5, 0x60)), HistoryEntry(2, lsn(8))],
    4: [HistoryEntry(1, lsn(3))],  # a second branch off timeline 1, earlier
}


def test_timeline_path() -> None:
    assert timeline_path(1, H) == [TimelineSpan(1, 0, None)]
    assert timeline_path(3, H) == [
        TimelineSpan(1, 0, lsn(5, 0x60)),
        TimelineSpan(2, lsn(5, 0x60), lsn(8)),
        TimelineSpan(3, lsn(8), None),
    ]
    assert timeline_path(9, H) == [TimelineSpan(9, 0, None)]  # no history: alone


@pytest.mark.parametrize(("segno", "timeline"), [(0, 1), (4, 1), (5, 2), (7, 2), (8, 3), (900, 3)])
def test_timeline_for_segment(segno: int, timeline: int) -> None:
    assert timeline_for_segment(segno, timeline_path(3, H), SEG) == timeline


@pytest.mark.parametrize(
    ("timeline", "at", "expected"),
    [
        (1, lsn(2), 4),  # before both branch points: the newest timeline wins
        (1, lsn(4), 3),  # after timeline 4 branched off at segment 3
        (1, lsn(6), 1),  # after every branch: only timeline 1 itself
        (2, lsn(6), 3),
        (2, lsn(9), 2),
        (3, lsn(9), 3),
    ],
)
def test_newest_timeline_through(timeline: int, at: int, expected: int) -> None:
    assert newest_timeline_through(timeline, at, {1, 2, 3, 4}, H) == expected


def test_covers() -> None:
    path = timeline_path(3, H)
    assert covers(path, 1, lsn(5))
    assert not covers(path, 1, lsn(6))
    assert covers(path, 2, lsn(6)) and not covers(path, 2, lsn(8))
    assert not covers(path, 4, lsn(4))


@pytest.mark.parametrize(
    ("histories", "timelines", "expected"),
    [
        (H, {1, 2, 3, 4}, []),
        ({}, {1}, []),
        ({}, {1, 2}, [("error", "00000002.history", "not archived")]),
        (
            {3: H[3], 2: [HistoryEntry(1, lsn(4))]},
            {1, 2, 3},
            [("error", "00000003.history", "disagrees with 00000002.history")],
        ),
        (
            {2: [HistoryEntry(1, lsn(9)), HistoryEntry(1, lsn(3))]},
            {1, 2},
            [("error", "00000002.history", "out of order")],
        ),
        ({2: [HistoryEntry(2, lsn(4))]}, {2}, [("error", "00000002.history", "out of order")]),
    ],
)
def test_history_issues(
    histories: dict[int, list[HistoryEntry]],
    timelines: set[int],
    expected: list[tuple[str, str, str]],
) -> None:
    found = history_issues(timelines, histories, {})
    assert [(i.severity, i.name) for i in found] == [(s, n) for s, n, _ in expected]
    for issue, (_, _, words) in zip(found, expected, strict=True):
        assert words in issue.message


def test_unreadable_history_is_an_error() -> None:
    (issue,) = history_issues({1, 2}, {}, {2: "authentication failed"})
    assert issue.severity == "error" and "authentication failed" in issue.message


def test_fork_warning_when_the_old_timeline_kept_writing() -> None:
    segments = {(1, 4), (1, 5), (2, 5), (2, 6)}
    assert fork_warnings(segments, {2: H[2]}, SEG) == []
    (warning,) = fork_warnings(segments | {(1, 6), (1, 7)}, {2: H[2]}, SEG)
    assert warning.severity == "warning"
    assert "2 WAL segment(s) after timeline 2 branched off" in warning.message
