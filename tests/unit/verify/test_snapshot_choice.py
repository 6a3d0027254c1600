"""SnapshotChoice: latest, random from a window, a given id; filtered by tags and path."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from drkit.errors import SnapshotNotFound
from drkit.repository.snapshot import Snapshot
from drkit.verify.snapshot_choice import SnapshotChoice

NOW = datetime(2025, 5, 10, 12, 0, tzinfo=UTC)


def snap(sid: str, days_ago: float, tags: list[str] | None = None, path: str = "/srv") -> Snapshot:
    return Snapshot(
        NOW - timedelta(days=days_ago), b"t", [path], "h", "u", tags=tags or [], id=sid * 16
    )


SNAPS = [
    snap("aaaa", 20, ["policy:app"]),
    snap("bbbb", 5, ["policy:app"]),
    snap("cccc", 2, ["policy:app"], path="/etc"),
    snap("dddd", 1),
]


def test_latest_by_default() -> None:
    assert SnapshotChoice().pick(SNAPS, NOW).id.startswith("dddd")


def test_filters_narrow_the_latest() -> None:
    assert SnapshotChoice(tags=("policy:app",)).pick(SNAPS, NOW).id.startswith("cccc")
    by_path = SnapshotChoice(tags=("policy:app",), path="/srv/app/db.sqlite")
    assert by_path.pick(SNAPS, NOW).id.startswith("bbbb")


def test_a_given_id_prefix() -> None:
    assert SnapshotChoice(snapshot="aaaa").pick(SNAPS, NOW).id.startswith("aaaa")
    assert SnapshotChoice(snapshot="latest").pick(SNAPS, NOW).id.startswith("dddd")


def test_random_from_a_window_picks_only_recent_ones() -> None:
    choice = SnapshotChoice(window=timedelta(days=7), tags=("policy:app",))
    picked = {choice.pick(SNAPS, NOW, random.Random(seed)).id[:4] for seed in range(40)}
    assert picked == {"bbbb", "cccc"}


def test_nothing_in_the_window_is_named() -> None:
    with pytest.raises(SnapshotNotFound) as info:
        SnapshotChoice(window=timedelta(hours=12)).pick(SNAPS, NOW)
    assert "in the last 12h" in info.value.message
    assert "2025-05-09" in info.value.message  # the newest one's date


def test_no_match_names_the_filters() -> None:
    with pytest.raises(SnapshotNotFound) as info:
        SnapshotChoice(tags=("policy:db",)).pick(SNAPS, NOW)
    assert "tag policy:db" in info.value.message
    with pytest.raises(SnapshotNotFound):
        SnapshotChoice(snapshot="dddd", tags=("policy:app",)).pick(SNAPS, NOW)
