"""Run a child process and measure wall time, CPU time and peak RSS; measure disk usage.

Peak RSS comes from the child's own rusage (``os.wait4``), so each measurement covers
exactly one command and nothing else that ran before it in this process.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

EXIT_NOT_FOUND = 127
EXIT_TIMEOUT = 124


@dataclass
class CommandResult:
    """Outcome and resource usage of one measured command."""

    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kib: int
    log: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_kib / 1024


def run_measured(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float | None = None,
) -> CommandResult:
    """Run ``argv`` to completion, sending stdout and stderr to ``log_path``.

    Never raises for a failing or missing program: the failure is in the result.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        except OSError as exc:
            return CommandResult(
                argv, EXIT_NOT_FOUND, 0.0, 0.0, 0.0, 0, str(log_path), f"cannot start: {exc}"
            )
        timed_out = threading.Event()
        timer = _start_kill_timer(proc, timeout_s, timed_out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer is not None:
            timer.cancel()
    returncode = os.waitstatus_to_exitcode(status)
    proc.returncode = returncode  # already reaped by wait4; keep Popen consistent
    error = f"timed out after {timeout_s:.0f} s" if timed_out.is_set() else None
    return CommandResult(
        argv=argv,
        returncode=EXIT_TIMEOUT if timed_out.is_set() else returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_kib=usage.ru_maxrss,  # KiB on Linux
        log=str(log_path),
        error=error,
    )


def _start_kill_timer(
    proc: subprocess.Popen[bytes], timeout_s: float | None, fired: threading.Event
) -> threading.Timer | None:
    if timeout_s is None:
        return None

    def kill() -> None:
        fired.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill)
    timer.daemon = True
    timer.start()
    return timer


def log_tail(log_path: str, lines: int = 15) -> str:
    """Last ``lines`` lines of a command log, for error reports."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass
class DiskUsage:
    """Size of a directory tree: allocated blocks (like ``du``) and apparent bytes."""

    allocated_bytes: int
    apparent_bytes: int
    files: int


def disk_usage(root: Path) -> DiskUsage:
    """Measure ``root`` like ``du -s`` (hard links counted once)."""
    seen: set[tuple[int, int]] = set()
    usage = DiskUsage(0, 0, 0)
    for current, dirnames, filenames in os.walk(root):
        base = Path(current)
        for name, is_file in [(d, False) for d in dirnames] + [(f, True) for f in filenames]:
            st = (base / name).lstat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            usage.allocated_bytes += st.st_blocks * 512
            if is_file:
                usage.apparent_bytes += st.st_size
                usage.files += 1
    return usage
