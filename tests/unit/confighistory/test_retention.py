"""Retention of versions: per scope, newest N or younger than D; the newest always stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.confighistory.model import ConfigVersion, Scope
from drkit.confighistory.retention import plan_retention
from drkit.settings.confighistory import HistoryRetention

NOW = datetime(2024, 6, 1, tzinfo=UTC)
A, B = Scope.file("local", "/etc/a"), Scope.drkit()


def _v(id_: int, scope: Scope, days_ago: float) -> ConfigVersion:
    when = NOW - timedelta(days=days_ago)
    return ConfigVersion(id_, f"u{id_}", scope, "me", when, "", "h", 1, None)


# a: versions 1..5, 50, 40, 30, 2, 1 days old; b: versions 6, 7 at 100 and 90 days
VERSIONS = [
    _v(1, A, 50),
    _v(2, A, 40),
    _v(3, A, 30),
    _v(4, A, 2),
    _v(5, A, 1),
    _v(6, B, 100),
    _v(7, B, 90),
]


@pytest.mark.parametrize(
    ("keep_versions", "keep_within", "removed"),
    [
        (None, None, []),
        (2, None, [1, 2, 3]),
        (1, None, [6, 1, 2, 3, 4]),  # oldest first
        (None, timedelta(days=35), [6, 1, 2]),  # 7 is b's newest: kept however old
        (3, timedelta(days=35), [1, 2]),  # either rule keeps a version
        (4, timedelta(days=1), [1]),
        (10, None, []),
    ],
)
def test_plan(keep_versions: int | None, keep_within: timedelta | None, removed: list[int]) -> None:
    retention = HistoryRetention(keep_versions=keep_versions, keep_within=keep_within)
    assert [v.id for v in plan_retention(VERSIONS, retention, NOW)] == removed


def test_keep_within_reads_durations_from_settings() -> None:
    retention = HistoryRetention.model_validate({"keep_within": "35d"})
    assert retention.keep_within == timedelta(days=35)
