"""Rise/fall: a table of probe sequences and the health each ends in."""

from __future__ import annotations

import pytest

from drkit.ha.health.risefall import CheckState, Health, step

CASES = [
    ("nothing yet", "", Health.UNKNOWN),
    ("one success is not up (rise 2)", "1", Health.UNKNOWN),
    ("two successes: up", "11", Health.UP),
    ("one lost probe keeps it up", "110", Health.UP),
    ("two lost probes keep it up (fall 3)", "1100", Health.UP),
    ("three failures: down", "11000", Health.DOWN),
    ("failures interrupted by a success do not add up", "1100100", Health.UP),
    ("down, one success is not up", "0001", Health.DOWN),
    ("down, two successes: up", "00011", Health.UP),
    ("flapping never reaches down", "1101010101", Health.UP),
]


def run(sequence: str, rise: int = 2, fall: int = 3) -> CheckState:
    state = CheckState()
    for t, ch in enumerate(sequence):
        state = step(state, ch == "1", float(t), rise, fall)
    return state


@pytest.mark.parametrize(("sequence", "health"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rise_fall(sequence: str, health: Health) -> None:
    assert run(sequence).health is health


def test_since_is_the_time_of_the_last_change() -> None:
    assert run("11000").since == 4.0
    assert run("110000").since == 4.0
    assert run("11").since == 1.0


def test_rise_and_fall_of_one() -> None:
    assert run("10", rise=1, fall=1).health is Health.DOWN
    assert run("01", rise=1, fall=1).health is Health.UP
