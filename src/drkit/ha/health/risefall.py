"""Rise/fall: a check is up after ``rise`` successes in a row, down after ``fall`` failures.

HAProxy's model. One lost probe never flips a state; the first state is
decided by the first ``rise`` or ``fall`` results (until then: unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Health(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class CheckState:
    health: Health = Health.UNKNOWN
    successes: int = 0
    failures: int = 0
    since: float = 0.0
    last_detail: str = ""


def step(
    state: CheckState, ok: bool, now: float, rise: int, fall: int, detail: str = ""
) -> CheckState:
    """The state after one probe result at ``now``."""
    successes = state.successes + 1 if ok else 0
    failures = 0 if ok else state.failures + 1
    health = state.health
    if ok and successes >= rise:
        health = Health.UP
    elif not ok and failures >= fall:
        health = Health.DOWN
    since = now if health is not state.health else state.since
    return CheckState(health, successes, failures, since, detail)
