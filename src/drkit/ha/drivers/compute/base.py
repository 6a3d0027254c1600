"""The Compute interface: one app server (or group) that a site starts and stops.

``start`` and ``stop`` are idempotent and return only when done; they raise
ComputeError (with the command's own output) when it failed. ``status`` never
raises for a stopped app: that is ``running=False``; it raises ComputeError only
when it cannot find out (host unreachable).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class ComputeStatus:
    running: bool
    detail: str = ""


class Compute(ABC):
    name: str

    @abstractmethod
    def start(self) -> None:
        """Start it; running already is fine."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it; stopped already is fine."""

    @abstractmethod
    def status(self) -> ComputeStatus:
        """Whether it runs now."""
