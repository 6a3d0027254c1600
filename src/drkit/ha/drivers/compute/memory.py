"""An app server in memory, for unit tests."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from drkit.ha.drivers.compute.base import Compute, ComputeStatus
from drkit.ha.drivers.errors import ComputeError
from drkit.plugins import Plugin


class MemoryComputeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["memory"] = "memory"
    name: str = "app"
    running: bool = False


class MemoryCompute(Compute):
    def __init__(self, name: str = "app", running: bool = False) -> None:
        self.name = name
        self.running = running
        self.reachable = True
        self.calls: list[str] = []

    def _check(self) -> None:
        if not self.reachable:
            raise ComputeError(f"{self.name} is unreachable")

    def start(self) -> None:
        self.calls.append("start")
        self._check()
        self.running = True

    def stop(self) -> None:
        self.calls.append("stop")
        self._check()
        self.running = False

    def status(self) -> ComputeStatus:
        self._check()
        return ComputeStatus(self.running, "running" if self.running else "stopped")


def _build(settings: MemoryComputeSettings) -> MemoryCompute:
    return MemoryCompute(settings.name, settings.running)


PLUGIN = Plugin("memory", MemoryComputeSettings, _build, "in-process app server for tests")
