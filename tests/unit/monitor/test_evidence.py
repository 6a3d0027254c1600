"""Which failed verifications still stand: only evidence covering the damage clears it."""

from __future__ import annotations

import pytest

from drkit.monitor.evidence import (
    ALL_READ_LINE,
    DAMAGED_LINE,
    READ_LINE,
    REPAIR,
    Outcome,
    packs_in,
    packs_line,
    packs_to_reread,
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


def repaired(*packs: str, every: bool = False) -> Outcome:
    lines = [packs_line(READ_LINE, packs), ALL_READ_LINE if every else ""]
    return Outcome(REPAIR, True, "\n".join(line for line in lines if line))


@pytest.mark.parametrize(
    ("history", "standing"),
    [
        ([bad("read-subset", "p1"), repaired("p1")], []),  # the repair re-read that pack
        ([bad("read-subset", "p1", "p2"), repaired("p1")], [0]),  # p2 not re-read
        ([bad("read-data"), repaired("p1")], [0]),  # a full read's damage: not by some packs
        ([bad("read-data"), repaired("p1", every=True)], []),  # ... but by reading every pack
        ([bad("check"), repaired()], []),  # structure damage: the repair's structure check
        ([bad("read-subset", "p1"), Outcome(REPAIR, False, "damaged packs: p1")], [0, 1]),
    ],
)
def test_a_repair_covers_what_it_read_again(history: list[Outcome], standing: list[int]) -> None:
    assert standing_failures(history) == standing


@pytest.mark.parametrize(
    ("history", "wanted"),
    [
        ([], frozenset()),
        ([bad("read-subset", "p1"), bad("read-subset", "p2", "p3")], {"p1", "p2", "p3"}),
        ([bad("read-subset", "p1"), good("read-subset", "p1"), bad("check")], frozenset()),
        ([bad("read-subset", "p1"), bad("read-data")], None),  # a full read names no pack: all
    ],
)
def test_a_repair_rereads_what_the_standing_failures_name(
    history: list[Outcome], wanted: frozenset[str] | None
) -> None:
    assert packs_to_reread(history) == wanted
