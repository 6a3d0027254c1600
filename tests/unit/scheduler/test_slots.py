"""When jobs are due: first sight, due, catch-up after downtime, overlap."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from drkit.scheduler.slots import Trigger, decide, latest_slot, next_slot

UTC_ZONE = ZoneInfo("UTC")
DAILY_2AM = "0 2 * * *"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(24, 2, 0, 0), at(24, 2)),  # exactly on the slot
        (at(24, 2, 0, 30), at(24, 2)),
        (at(24, 1, 59, 59), at(23, 2)),
        (at(24, 23, 0), at(24, 2)),
    ],
)
def test_latest_slot(now: datetime, expected: datetime) -> None:
    assert latest_slot(DAILY_2AM, now, UTC_ZONE) == expected


def test_next_slot_is_strictly_after_now() -> None:
    assert next_slot(DAILY_2AM, at(24, 2), UTC_ZONE) == at(25, 2)


def test_slots_follow_the_configured_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in November
    assert latest_slot(DAILY_2AM, at(24, 12), berlin) == at(24, 1)


@pytest.mark.parametrize(
    ("last", "now", "running", "starting_up", "start", "trigger"),
    [
        (None, at(24, 3), False, True, False, None),  # first seen: wait for the next slot
        (at(24, 2), at(24, 3), False, False, False, None),  # already ran for this slot
        (at(23, 2), at(24, 2, 0, 5), False, False, True, Trigger.SCHEDULE),  # due
        (at(23, 2), at(24, 2, 0, 5), True, False, False, None),  # previous run still going
        (at(20, 2), at(24, 9), False, True, True, Trigger.CATCH_UP),  # missed 4 slots: once
        (at(23, 2), at(24, 9), False, True, True, Trigger.CATCH_UP),  # missed 1 slot
    ],
)
def test_decide(
    last: datetime | None,
    now: datetime,
    running: bool,
    starting_up: bool,
    start: bool,
    trigger: Trigger | None,
) -> None:
    decision = decide(DAILY_2AM, last, now, UTC_ZONE, running=running, starting_up=starting_up)
    assert decision.start is start
    assert decision.trigger is trigger
    if start:
        assert decision.slot == latest_slot(DAILY_2AM, now, UTC_ZONE)


def test_a_skipped_slot_is_recorded_so_it_is_not_run_late() -> None:
    decision = decide(DAILY_2AM, at(23, 2), at(24, 2, 1), UTC_ZONE, running=True, starting_up=False)
    assert not decision.start
    assert decision.slot == at(24, 2)
    assert "still going" in decision.reason
