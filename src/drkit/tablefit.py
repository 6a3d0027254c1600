"""Tables that fit the terminal without cutting what identifies a row.

restic and kubectl are the models: a narrow terminal gets fewer columns,
never ``newe…`` or ``2026…``. Each column says what it is:

- ``key``: identifying (a policy or source name, an id, a timestamp, a
  path): always shown, always whole; it is never wrapped nor cut.
- ``wrap``: free text (a reason, a message, an error) that may wrap onto
  several lines, down to its longest word.
- anything else is shown whole or not at all.

When the columns do not fit, the non-key columns go first, the highest
``priority`` number first (``priority=1`` is the last to go), and a dim
line under the table names what was left out and how to see it. When the
key columns alone are wider than the terminal, the table is printed wider
than the terminal (the terminal folds the lines) rather than cut. Widths
are those of the console the table is printed to (``COLUMNS`` when stdout
is not a terminal, else 80).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

Cell = str | Text
"""Console markup (``"[red]FAILED[/]"``) or a Rich Text; newlines make several lines."""

HIDDEN_HINT = "a wider terminal or --json shows them"


@dataclass(frozen=True)
class Column:
    header: str
    key: bool = False
    """Identifying: never dropped, never wrapped, never cut."""
    wrap: bool = False
    """Free text: may wrap onto several lines (down to its longest word)."""
    priority: int = 1
    """Which non-key column goes first when the table is too wide: the highest number."""
    justify: Literal["left", "right"] = "left"


class FittedTable:
    """A table laid out for the width it is printed at (see the module docstring)."""

    def __init__(self, columns: Sequence[Column], *, padding: int = 2, hint: str = HIDDEN_HINT):
        if any(c.key and c.wrap for c in columns):
            raise ValueError("a key column is never wrapped")
        self.columns = tuple(columns)
        self.rows: list[tuple[Cell, ...]] = []
        self.padding = padding
        self.hint = hint

    def add_row(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple(cells))

    def __bool__(self) -> bool:
        return bool(self.rows)

    def shown(self, width: int) -> tuple[int, ...]:
        """The indexes of the columns shown at ``width`` terminal columns."""
        texts = [[_text(row[i]) for row in self.rows] for i in range(len(self.columns))]
        needs = [_least(column, cells) for column, cells in zip(self.columns, texts, strict=True)]
        return choose(self.columns, needs, width, self.padding)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        kept = self.shown(width)
        gap = (0, 0, 0, self.padding)  # a gap left of every column but the first
        table = Table(box=None, padding=gap, pad_edge=False, show_edge=False)
        for i in kept:
            column = self.columns[i]
            table.add_column(
                column.header,
                justify=column.justify,
                no_wrap=not column.wrap,
                overflow="fold" if column.wrap else "ellipsis",
            )
        for row in self.rows:
            table.add_row(*(row[i] for i in kept))
        least = _total(
            [_least(self.columns[i], [_text(r[i]) for r in self.rows]) for i in kept], self.padding
        )
        if least > width:  # the key columns alone do not fit: wider than the terminal, not cut
            table.width = least
        yield table
        hidden = [c.header for i, c in enumerate(self.columns) if i not in kept]
        if hidden and self.rows:
            note = f"not shown at {width} columns: {', '.join(hidden)} ({self.hint})"
            yield Text("\n".join(textwrap.wrap(note, max(width, 20))), "dim")


def choose(
    columns: Sequence[Column], needs: Sequence[int], width: int, padding: int
) -> tuple[int, ...]:
    """Drop non-key columns, the highest priority number first (the rightmost on a tie),
    until the least width of what is left fits ``width``; the key columns always stay."""
    kept = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if not c.key),
        key=lambda i: (columns[i].priority, i),
        reverse=True,
    )
    for index in droppable:
        if _total([needs[i] for i in kept], padding) <= width:
            break
        kept.remove(index)
    return tuple(kept)


def _total(widths: Sequence[int], padding: int) -> int:
    return sum(widths) + padding * max(len(widths) - 1, 0)


def _least(column: Column, cells: Sequence[Text]) -> int:
    """The narrowest a column can be: its longest line, or longest word when it wraps."""
    header = Text(column.header)
    if column.wrap:
        return max(_longest_word(t) for t in (header, *cells))
    return max(_longest_line(t) for t in (header, *cells))


def _longest_line(text: Text) -> int:
    return max((line.cell_len for line in text.split("\n")), default=0)


def _longest_word(text: Text) -> int:
    return max((Text(word).cell_len for word in text.plain.split()), default=0)


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text.from_markup(cell)
