"""The Compute contract, run with real processes: a background ``sleep`` as the app.

Subclasses provide ``make`` (a factory: start, stop, status shell lines in, driver out)
and ``folder`` (a directory both the test and the driver's host can see).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.ha.drivers.compute.base import Compute
from drkit.ha.drivers.errors import ComputeError

Make = Callable[[str, str, str], Compute]


def app_lines(folder: Path) -> tuple[str, str, str]:
    pid = folder / "app.pid"
    start = f"nohup sleep 300 >/dev/null 2>&1 & echo $! > {pid}"
    stop = f"kill $(cat {pid}) && rm -f {pid}"
    status = f"test -f {pid} && kill -0 $(cat {pid})"
    return start, stop, status


def kill_app(folder: Path) -> None:
    pid = folder / "app.pid"
    if pid.exists():
        try:
            os.kill(int(pid.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class ComputeContract:
    def test_start_stop_status(self, make: Make, folder: Path) -> None:
        app = make(*app_lines(folder))
        assert app.status().running is False
        app.start()
        assert app.status().running is True
        os.kill(int((folder / "app.pid").read_text()), 0)  # a real process runs
        app.start()  # idempotent
        app.stop()
        assert app.status().running is False
        app.stop()  # idempotent

    def test_failing_start_is_an_error(self, make: Make, folder: Path) -> None:
        app = make("echo boom >&2; exit 4", "true", "false")
        with pytest.raises(ComputeError, match="boom"):
            app.start()

    def test_start_that_does_not_start_is_an_error(self, make: Make, folder: Path) -> None:
        app = make("true", "true", "false")
        with pytest.raises(ComputeError, match="still says stopped"):
            app.start()

    def test_missing_status_command_is_an_error(self, make: Make, folder: Path) -> None:
        app = make("true", "true", "/nonexistent/status-cmd")
        with pytest.raises(ComputeError, match="status"):
            app.status()
