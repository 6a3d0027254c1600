"""The ``command`` compute driver: start, stop and status are local commands (argv lists).

``status`` exits 0 when the app runs and 1-125 when it does not (LSB uses 3);
126/127 (not executable, not found) or a timeout mean "cannot tell" and raise
ComputeError. ``start``/``stop`` ask ``status`` first (idempotent), run their
command, then wait up to ``wait_s`` for ``status`` to agree. Output goes to a
temporary file, not a pipe, so a start command that leaves a daemon behind
does not hang the call.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drkit.ha.drivers.compute.base import Compute, ComputeStatus
from drkit.ha.drivers.errors import ComputeError
from drkit.plugins import Plugin

Argv = list[str]


class CommandComputeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["command"] = "command"
    name: str = "app"
    start: Argv = Field(min_length=1)
    stop: Argv = Field(min_length=1)
    status: Argv = Field(min_length=1)
    cwd: Path | None = None
    env: dict[str, str] | None = None
    timeout_s: float = Field(default=60, gt=0, le=3600)
    wait_s: float = Field(default=30, ge=0, le=3600, description="For status to agree.")


class Ran:
    def __init__(self, code: int, output: str) -> None:
        self.code, self.output = code, output


def settle(app: Compute, want: bool, wait_s: float, what: str) -> None:
    """Wait until ``app.status().running`` is ``want``; ComputeError when it does not get there."""
    deadline = time.monotonic() + wait_s
    while True:
        status = app.status()
        if status.running is want:
            return
        if time.monotonic() >= deadline:
            raise ComputeError(
                f"{app.name}: {what} ran, but status still says "
                f"{'stopped' if want else 'running'} after {wait_s:g} s: {status.detail}"
            )
        time.sleep(0.1)


class CommandCompute(Compute):
    def __init__(self, settings: CommandComputeSettings) -> None:
        self.settings = settings
        self.name = settings.name

    def run(self, argv: Argv) -> Ran:
        with tempfile.TemporaryFile() as out:
            try:
                code = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.settings.cwd,
                    env=self.settings.env,
                    timeout=self.settings.timeout_s,
                    check=False,
                ).returncode
            except subprocess.TimeoutExpired as exc:
                raise ComputeError(
                    f"{self.name}: {argv[0]} did not finish within {self.settings.timeout_s:g} s"
                ) from exc
            except OSError as exc:
                raise ComputeError(f"{self.name}: cannot run {argv[0]}: {exc.strerror}") from exc
            out.seek(0)
            return Ran(code, out.read().decode(errors="replace").strip()[-1000:])

    def status(self) -> ComputeStatus:
        ran = self.run(self.settings.status)
        if ran.code in (126, 127) or ran.code < 0:
            raise ComputeError(f"{self.name}: status command failed ({ran.code}): {ran.output}")
        return ComputeStatus(ran.code == 0, ran.output or f"exit {ran.code}")

    def _act(self, argv: Argv, want: bool, what: str) -> None:
        if self.status().running is want:
            return
        ran = self.run(argv)
        if ran.code != 0:
            raise ComputeError(f"{self.name}: {what} exited {ran.code}: {ran.output}")
        settle(self, want, self.settings.wait_s, what)

    def start(self) -> None:
        self._act(self.settings.start, True, "start")

    def stop(self) -> None:
        self._act(self.settings.stop, False, "stop")


PLUGIN = Plugin("command", CommandComputeSettings, CommandCompute, "local start/stop commands")
