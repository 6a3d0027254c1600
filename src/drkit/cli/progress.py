"""A Rich progress bar for long operations, shown only on a terminal.

:func:`progress_for` gives the service layer's Progress (an operation
reports phases and bytes; :class:`drkit.services.progress.Counter` passes
the repository layer's byte counts on to it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import (
    Progress as RichBar,
)

from drkit.cli.output import Output, WarningProgress, err

if TYPE_CHECKING:
    from drkit.services.progress import Progress as ServiceProgress


class Bar:
    """A :class:`drkit.services.progress.Progress` shown as a Rich bar on stderr.

    Each phase is a line of its own with bytes, throughput and an ETA when the
    total is known (``wants_totals`` asks the operation to count it first).
    """

    wants_totals = True

    def __init__(self) -> None:
        self._bar = RichBar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
            refresh_per_second=4,
        )
        self._task: TaskID | None = None

    def phase(self, name: str) -> None:
        if self._task is None:
            self._bar.start()
        self._task = self._bar.add_task(name, total=None)

    def advance(self, done: int, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=done, total=total)

    def warn(self, message: str) -> None:
        self._bar.console.print(f"[yellow]warning:[/] {message}")

    def close(self) -> None:
        if self._task is not None:
            self._bar.stop()


@contextmanager
def progress_for(output: Output) -> Iterator[ServiceProgress]:
    """A bar while the operation runs (text on a terminal), else warnings only."""
    if not output.text or not sys.stderr.isatty():
        yield WarningProgress()
        return
    bar = Bar()
    try:
        yield bar
    finally:
        bar.close()
