"""Naming versions: ids, ISO times and phrases, against a fixed 'now'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.confighistory.errors import BadReference
from drkit.confighistory.timeparse import parse_ref, parse_time

NOW = datetime(2024, 5, 10, 15, 30, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("yesterday", NOW - timedelta(days=1)),
        ("2 hours ago", NOW - timedelta(hours=2)),
        ("2h ago", NOW - timedelta(hours=2)),
        ("90min ago", NOW - timedelta(minutes=90)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("a day ago", NOW - timedelta(days=1)),
        ("3 days ago", NOW - timedelta(days=3)),
        ("1 week ago", NOW - timedelta(weeks=1)),
        ("2 months ago", NOW - timedelta(days=60)),
        ("1 year ago", NOW - timedelta(days=365)),
        ("last week", NOW - timedelta(weeks=1)),
        ("last month", NOW - timedelta(days=30)),
        ("last year", NOW - timedelta(days=365)),
        ("  Last   Week ", NOW - timedelta(weeks=1)),
        ("2024-05-01T12:00:00+00:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01 12:00:00.250000+02:00", datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_phrases_and_timestamps(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


def test_today_is_local_midnight_and_times_of_day_are_local() -> None:
    local = NOW.astimezone()
    today = parse_time("today", NOW)
    assert today == local.replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_time("today 09:30", NOW) == local.replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    yesterday = parse_time("yesterday 18:05", NOW)
    assert (yesterday.date(), yesterday.hour, yesterday.minute) == (
        (local - timedelta(days=1)).date(),
        18,
        5,
    )


def test_a_date_without_zone_is_local_time() -> None:
    when = parse_time("2024-05-01", NOW)
    assert when.utcoffset() == datetime(2024, 5, 1).astimezone().utcoffset()
    assert (when.year, when.month, when.day, when.hour) == (2024, 5, 1, 0)


@pytest.mark.parametrize(("text", "version"), [("42", 42), ("#7", 7), (" 3 ", 3)])
def test_ids(text: str, version: int) -> None:
    ref = parse_ref(text, NOW)
    assert (ref.version_id, ref.at) == (version, None)


def test_a_compact_date_is_not_an_id() -> None:
    ref = parse_ref("20240501", NOW)
    assert ref.version_id is None and ref.at is not None and ref.at.day == 1


@pytest.mark.parametrize(
    "text", ["", "soon", "2 fortnights ago", "today 25:00", "last blue moon", "ago", "-1"]
)
def test_nonsense_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadReference) as caught:
        parse_ref(text, NOW)
    assert caught.value.exit_code == 51
    assert "yesterday" in caught.value.hint and "2 hours ago" in caught.value.hint
