"""Which failed verifications still stand: only evidence covering the damage clears it."""

from __future__ import annotations

import pytest

from drkit.monitor.evidence import (
    DAMAGED_LINE,
    READ_LINE,
    Outcome,
    packs_in,
    packs_line,
    standing_failures,
)


def bad(kind: str, *packs: str) -> Outcome:
    return Outcome(kind, False, "\n".join(["problems", packs_line(DAMAGED_LINE, packs)]))


def good(kind: str, *packs: str) -> Outcome:
    return Outcome(kind, True, packs_line(READ_LINE, packs))


@pytest.mark.parametrize(
    ("history", "standing"),
    [
        ([bad("read-subset", "p1"), good("check")], [0]),  # the reported flapping
        ([bad("read-subset", "p1"), good("read-subset", "p2")], [0]),  # another pack read
        ([bad("read-subset", "p1"), good("read-subset", "p1", "p2")], []),  # that pack read
        ([bad("read-subset", "p1", "p3"), good("read-subset", "p1")], [0]),  # p3 not yet
        ([bad("read-subset", "p1"), good("read-data")], []),
        ([bad("read-data", "p1"), good("check")], [0]),
        ([bad("read-data"), good("read-subset", "p1")], [0]),  # no pack named: full read only
        ([bad("read-data"), good("read-data")], []),
        ([bad("check"), good("check")], []),
        ([bad("check"), good("read-subset")], []),
        ([good("read-data"), bad("check")], [1]),
        ([bad("read-subset", "p1"), good("check"), bad("read-subset", "p1")], [0, 2]),
    ],
)
def test_standing_failures(history: list[Outcome], standing: list[int]) -> None:
    assert standing_failures(history) == standing


def test_pack_lines_round_trip() -> None:
    summary = "boom\n" + packs_line(DAMAGED_LINE, ["b", "a"]) + "\n" + packs_line(READ_LINE, ["c"])
    assert packs_in(summary, DAMAGED_LINE) == {"a", "b"}
    assert packs_in(summary, READ_LINE) == {"c"}
    assert packs_line(READ_LINE, []) == ""
