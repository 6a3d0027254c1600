"""The recovery point of a physical source: the furthest gap-free reach, never past a gap."""

from __future__ import annotations

from drkit.sources.wal_rpo import recovery_point, segments_to_read
from tests.unit.sources.chainkit import SYSID, archive, at, backup

STOPS = {"a" * 8: at(15), "b" * 8: at(45)}  # a: segments 1-2, b: 4-5


def test_a_complete_archive_recovers_to_its_last_commit() -> None:
    point = recovery_point([backup("a", 1, 2)], archive({1: [1, 2, 3, 4]}), STOPS)
    assert (point.time, point.gap, point.last_segment) == (at(39), None, "000000010000000000000004")


def test_a_gap_holds_the_point_before_it_whatever_is_archived_after() -> None:
    point = recovery_point([backup("a", 1, 2)], archive({1: [1, 2, 3, 5, 6]}), STOPS)
    assert point.time == at(29) and point.gap == "000000010000000000000004"
    assert "000000010000000000000004 is missing or damaged" in point.sentence()


def test_a_newer_backup_past_the_gap_recovers_from_its_own_chain() -> None:
    backups = [backup("a", 1, 2), backup("b", 4, 5)]
    point = recovery_point(backups, archive({1: [1, 2, 4, 5, 6]}), STOPS)
    assert (point.time, point.gap, point.backup_id) == (at(59), None, "b" * 8)


def test_a_broken_newest_backup_falls_back_and_none_usable_says_so() -> None:
    backups = [backup("a", 1, 2), backup("b", 4, 5)]
    point = recovery_point(backups, archive({1: [1, 2, 3, 5]}), STOPS)  # b lacks 4
    assert point.backup_id == "a" * 8 and point.time == at(29)
    none = recovery_point([backup("b", 4, 5)], archive({1: [5]}), STOPS)
    assert none.time is None and none.system_id == SYSID and "no base backup" in none.sentence()


def test_an_idle_cluster_recovers_to_its_backup_stop() -> None:
    state = archive({1: [1, 2]})
    state.commits.clear()
    assert recovery_point([backup("a", 1, 2)], state, STOPS).time == at(15)


def test_the_segments_to_prove_are_those_the_best_chain_replays() -> None:
    state = archive({1: [1, 2, 3, 5]})
    assert segments_to_read([backup("a", 1, 2)], state) == [(1, 1), (1, 2), (1, 3)]


def test_proofs_older_than_the_reprove_age_are_not_trusted() -> None:
    from datetime import UTC, datetime, timedelta

    from drkit.sources.wal_rpo_measure import ProvedWal, _trusted

    now = datetime(2026, 12, 1, tzinfo=UTC)
    known = {
        "old": ProvedWal("old", 1, 0, now - timedelta(days=8)),
        "new": ProvedWal("new", 1, 0, now - timedelta(days=1)),
        "undated": ProvedWal("undated", 1, 0),
    }
    assert set(_trusted(known, None)) == {"old", "new", "undated"}
    assert set(_trusted(known, now - timedelta(days=7))) == {"new"}
    assert _trusted(known, datetime.max.replace(tzinfo=UTC)) == {}
