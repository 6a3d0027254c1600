"""Progress of an operation, reported through callbacks (restic's archiver does the same).

An operation never prints: it tells a :class:`Progress` what happens, and
the face decides what to show (the CLI a bar or lines on stderr, the API an
event stream, the daemon its log). :data:`SILENT` ignores everything.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What an operation reports while it works. Implementations must not raise."""

    def phase(self, name: str) -> None:
        """A named part of the work begins ("forget in offsite", "restore", ...)."""

    def advance(self, done: int, total: int | None = None) -> None:
        """``done`` units of the current phase are finished (of ``total`` when known)."""

    def warn(self, message: str) -> None:
        """Something went wrong that does not stop the operation (a damaged snapshot, ...)."""


class Silent:
    """A Progress that reports nothing (tests, the daemon's quiet steps)."""

    def phase(self, name: str) -> None:
        pass

    def advance(self, done: int, total: int | None = None) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


SILENT: Progress = Silent()
