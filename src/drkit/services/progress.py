"""Progress of an operation, reported through callbacks (restic's archiver does the same).

An operation never prints: it tells a :class:`Progress` what happens, and
the face decides what to show (the CLI a bar or lines on stderr, the API an
event stream, the daemon its log). :data:`SILENT` ignores everything.
"""

from __future__ import annotations

from typing import Protocol

from drkit.repository.progress import Progress as RepoProgress


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


class Counter(RepoProgress):
    """The repository layer's byte counter, reporting to a :class:`Progress`.

    The archiver, the copier and the source drivers count files and bytes on
    a :class:`drkit.repository.progress.Progress`; this one passes the phase,
    the bytes done (of the total, when known) and the warnings on. A face that
    wants the extra scan for totals (a bar with an ETA) sets ``wants_totals``.
    """

    def __init__(self, target: Progress) -> None:
        super().__init__()
        self.target = target

    @property
    def wants_totals(self) -> bool:
        return bool(getattr(self.target, "wants_totals", False))

    def start(self, title: str) -> None:
        self.target.phase(title)

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        self.target.advance(self.bytes, self.total_bytes)

    def warn(self, message: str) -> None:
        self.target.warn(message)
