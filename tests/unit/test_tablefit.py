"""Tables fit the width they are printed at: minor columns go, identifying ones stay whole."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from drkit.tablefit import Column, FittedTable, choose

COLUMNS = (
    Column("repository", key=True),
    Column("media", priority=3),
    Column("newest snapshot", key=True),
    Column("counts", wrap=True, priority=1),
    Column("verified age", priority=2),
    Column("last check", priority=2),
)
ROWS = (
    ("offsite-s3-europe-west", "s3", "2026-12-02 18:46", "no: older than the RPO of 1h", "3h",
     "ok 2026-12-02 18:40"),
    ("local", "disk", "2026-11-30 07:01", "yes", "2d", "FAILED 2026-12-01 03:00"),
)  # fmt: skip


def _render(width: int, columns: tuple[Column, ...] = COLUMNS) -> str:
    table = FittedTable(columns)
    for row in ROWS:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=width, soft_wrap=True, color_system=None).print(table)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [200, 80, 60, 44, 20])
def test_identifying_values_stay_whole_at_any_width(width: int) -> None:
    text = _render(width)
    for value in ("offsite-s3-europe-west", "local", "2026-12-02 18:46", "2026-11-30 07:01"):
        assert value in text, f"{value!r} cut at {width} columns:\n{text}"
    assert "…" not in text


def test_wide_shows_every_column_and_no_note() -> None:
    text = _render(200)
    assert "FAILED 2026-12-01 03:00" in text and "no: older than the RPO of 1h" in text
    assert "not shown" not in text


def test_narrow_drops_the_least_important_first_and_says_so() -> None:
    text = _render(80)
    lines = text.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), text
    # media (priority 3) goes first, then the rightmost of priority 2
    assert "media" not in lines[0] and "last check" not in lines[0]
    assert "verified age" in lines[0]
    note = " ".join(lines[-2:])
    assert (
        note == "not shown at 80 columns: media, last check (a wider terminal or --json shows them)"
    )
    narrower = " ".join(_render(44).split())
    assert "not shown at 44 columns: media, counts, verified age, last check" in narrower


def test_free_text_wraps_before_it_is_dropped() -> None:
    text = _render(70)
    assert "counts" in text.splitlines()[0]
    assert "no: older than" in text and "RPO of 1h" in text  # on two lines, every word whole
    assert "no: older than the RPO of 1h" not in text


def test_key_columns_wider_than_the_terminal_are_printed_whole() -> None:
    text = _render(20)
    assert "offsite-s3-europe-west  2026-12-02 18:46" in text  # a long line, not a cut


@pytest.mark.parametrize(
    ("needs", "width", "kept"),
    [
        ([10, 5, 16, 20, 4], 200, (0, 1, 2, 3, 4)),
        ([10, 5, 16, 20, 4], 60, (0, 2, 3, 4)),  # the highest priority number goes first
        ([10, 5, 16, 20, 4], 50, (0, 2, 3)),
        ([10, 5, 16, 20, 4], 40, (0, 2)),
        ([10, 5, 16, 20, 4], 5, (0, 2)),  # key columns are never dropped
    ],
)
def test_choose_drops_by_priority(needs: list[int], width: int, kept: tuple[int, ...]) -> None:
    columns = (
        Column("a", key=True),
        Column("b", priority=3),
        Column("c", key=True),
        Column("d", wrap=True),
        Column("e", priority=2),
    )
    assert choose(columns, needs, width, padding=2) == kept


def test_a_key_column_cannot_wrap() -> None:
    with pytest.raises(ValueError, match="never wrapped"):
        FittedTable([Column("id", key=True, wrap=True)])
