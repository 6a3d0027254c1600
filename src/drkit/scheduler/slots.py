"""When a job is due: pure functions over cron slots.

A slot is a moment a cron expression names. A job is due when the newest
slot at or before now is newer than the last slot it ran for. A job seen for
the first time starts from the current slot (no burst of runs for a schedule
that was just added); a daemon that was down across one or more slots runs
the job once at start (``catch-up``), not once per missed slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from croniter import croniter


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    CATCH_UP = "catch-up"
    MANUAL = "manual"


@dataclass(frozen=True)
class Decision:
    start: bool
    slot: datetime | None  # the slot to record as done (None: nothing to record)
    trigger: Trigger | None
    reason: str


def latest_slot(schedule: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The newest slot at or before ``now`` (aware UTC in, aware UTC out)."""
    local = now.astimezone(tz)
    itr = croniter(schedule, local)
    if croniter.match(schedule, local.replace(second=0, microsecond=0)):
        slot = local.replace(second=0, microsecond=0)
    else:
        slot = itr.get_prev(datetime)
    return slot.astimezone(ZoneInfo("UTC"))


def next_slot(schedule: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The first slot after ``now``."""
    nxt: datetime = croniter(schedule, now.astimezone(tz)).get_next(datetime)
    return nxt.astimezone(ZoneInfo("UTC"))


def decide(
    schedule: str,
    last_slot: datetime | None,
    now: datetime,
    tz: ZoneInfo,
    *,
    running: bool,
    starting_up: bool,
) -> Decision:
    """Whether to start the job now, for which slot, and why (or why not)."""
    slot = latest_slot(schedule, now, tz)
    if last_slot is None:
        return Decision(False, slot, None, "first seen: waiting for its next slot")
    if slot <= last_slot:
        return Decision(False, None, None, "not due")
    if running:
        return Decision(False, slot, None, "skipped: the previous run is still going")
    if starting_up:
        return Decision(True, slot, Trigger.CATCH_UP, "its slot passed while the daemon was down")
    return Decision(True, slot, Trigger.SCHEDULE, "due")
