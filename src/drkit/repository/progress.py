"""Progress reporting from long operations to whoever shows it.

The repository layer only counts; the CLI decides how to show it (a Rich bar
on a terminal, nothing with --quiet, JSON lines with --json).
"""

from __future__ import annotations

import threading


class Progress:
    """Thread-safe counters of work done against an optional total. Subclass to display."""

    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0
        self.total_files: int | None = None
        self.total_bytes: int | None = None
        self._lock = threading.Lock()

    def start(self, title: str) -> None:
        """An operation begins."""

    def set_total(self, files: int | None, nbytes: int | None) -> None:
        self.total_files, self.total_bytes = files, nbytes

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.files += files
            self.bytes += nbytes

    def warn(self, message: str) -> None:
        """Something went wrong with one item; the operation goes on."""

    def finish(self) -> None:
        """The operation ended."""

    @property
    def wants_totals(self) -> bool:
        """Whether computing totals (an extra scan) is worth it for this display."""
        return False
