"""What every scratch server of a restore test shares: waiting for it, its log, stopping it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from drkit.verify.errors import ScratchUnavailable


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    what: str,
    log: Path,
    timeout_s: float,
    poll_s: float = 0.1,
) -> None:
    """Until ``ready()``; ScratchUnavailable with the log's tail if ``what`` exits or times out."""
    started = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise ScratchUnavailable(f"the scratch {what} exited: {log_tail(log)}")
        if ready():
            return
        if time.monotonic() - started > timeout_s:
            raise ScratchUnavailable(f"the scratch {what} did not start: {log_tail(log)}")
        time.sleep(poll_s)


def log_tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-800:]
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen[bytes] | None, grace_s: float) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; reaped either way."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
