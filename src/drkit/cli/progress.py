"""A Rich progress bar for long operations, shown only on a terminal."""

from __future__ import annotations

import sys

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

from drkit.cli.output import err
from drkit.repository.progress import Progress


class BarProgress(Progress):
    """Files, bytes, throughput and ETA on stderr."""

    def __init__(self) -> None:
        super().__init__()
        self._bar = RichBar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[files]} files"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
            refresh_per_second=4,
        )
        self._task: TaskID | None = None

    @property
    def wants_totals(self) -> bool:
        return True

    def start(self, title: str) -> None:
        self._bar.start()
        self._task = self._bar.add_task(title, total=None, files=0)

    def set_total(self, files: int | None, nbytes: int | None) -> None:
        super().set_total(files, nbytes)
        if self._task is not None:
            self._bar.update(self._task, total=nbytes)

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        if self._task is not None:
            total_files = f"{self.files}/{self.total_files}" if self.total_files else self.files
            self._bar.update(self._task, completed=self.bytes, files=total_files)

    def warn(self, message: str) -> None:
        self._bar.console.print(f"[yellow]warning:[/] {message}")

    def finish(self) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=self.bytes)
        self._bar.stop()


class QuietProgress(Progress):
    """No bar; warnings still reach stderr."""

    def warn(self, message: str) -> None:
        err.print(f"[yellow]warning:[/] {message}")


def make_progress(quiet: bool, json_output: bool) -> Progress:
    if quiet or json_output or not sys.stderr.isatty():
        return QuietProgress()
    return BarProgress()
