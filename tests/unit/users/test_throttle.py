"""Failed-login throttling as a table: free failures, then doubling waits, capped, forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.web.throttle import MAX_WAIT, Throttle, wait_for

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _at(*seconds: int) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("failures", "now", "wait"),
    [
        (_at(), 0, 0),
        (_at(0, 1, 2, 3), 4, 0),  # four failures are free
        (_at(0, 1, 2, 3, 4), 4, 30),  # the fifth: 30 s from the last
        (_at(0, 1, 2, 3, 4), 24, 10),
        (_at(0, 1, 2, 3, 4), 34, 0),
        (_at(0, 1, 2, 3, 4, 5), 5, 60),  # doubled
        (_at(*range(20)), 19, int(MAX_WAIT.total_seconds())),  # capped
        (_at(0, 1, 2, 3, 4), 4 + 15 * 60, 0),  # old failures are forgotten
    ],
)
def test_wait_for(failures: list[datetime], now: int, wait: int) -> None:
    assert wait_for(failures, T0 + timedelta(seconds=now)) == timedelta(seconds=wait)


def test_a_success_clears_the_keys_failures() -> None:
    throttle = Throttle()
    for s in range(5):
        throttle.failed(["user:a", "ip:1"], T0 + timedelta(seconds=s))
    assert throttle.wait(["user:a"], T0 + timedelta(seconds=5)) > timedelta(0)
    assert throttle.wait(["user:b"], T0 + timedelta(seconds=5)) == timedelta(0)
    throttle.succeeded(["user:a", "ip:1"])
    assert throttle.wait(["user:a", "ip:1"], T0 + timedelta(seconds=5)) == timedelta(0)
