"""Run a child process and measure wall time, CPU time and peak RSS; measure disk usage.

Peak RSS comes from the child's own rusage (``os.wait4``, ``ru_maxrss``), collected by
``bench/launch.py`` -- a tiny separate launcher, so the harness's own memory does not
leak into the figure (see that module's docstring).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

EXIT_NOT_FOUND = 127
EXIT_TIMEOUT = 124
LAUNCHER = Path(__file__).resolve().with_name("launch.py")


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
    """Run ``argv`` to completion via ``launch.py``, stdout and stderr to ``log_path``.

    Never raises for a failing or missing program: the failure is in the result.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path = log_path.with_suffix(".rusage")
    result_path.unlink(missing_ok=True)
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER), str(result_path), str(cwd), "--"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*launcher, *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # own process group, so a timeout kills the tool too
        )
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return CommandResult(
                argv,
                EXIT_TIMEOUT,
                timeout_s or 0.0,
                0.0,
                0.0,
                0,
                str(log_path),
                f"timed out after {timeout_s:.0f} s",
            )
    return _read_launch_result(argv, result_path, log_path, proc.returncode)


def _read_launch_result(
    argv: list[str], result_path: Path, log_path: Path, launcher_code: int
) -> CommandResult:
    try:
        fields = result_path.read_text().split()
        result_path.unlink()
    except OSError:
        return CommandResult(
            argv,
            launcher_code or 1,
            0.0,
            0.0,
            0.0,
            0,
            str(log_path),
            f"launcher failed (exit {launcher_code})",
        )
    code, wall, user, system, rss = fields
    error = "cannot start program" if float(wall) < 0 else None
    return CommandResult(
        argv=argv,
        returncode=int(code),
        wall_s=max(0.0, float(wall)),
        user_s=float(user),
        sys_s=float(system),
        max_rss_kib=int(rss),  # KiB on Linux
        log=str(log_path),
        error=error,
    )


def launcher_floor_kib() -> int:
    """Peak RSS reported for a trivial program: the launcher's measurement floor."""
    with tempfile.TemporaryDirectory() as tmp:
        result = run_measured(
            ["true"], cwd=Path(tmp), env=dict(os.environ), log_path=Path(tmp) / "true.log"
        )
    return result.max_rss_kib


def log_tail(log_path: str, lines: int = 15) -> str:
    """Last ``lines`` lines of a command log, for error reports."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def summary_line(text: str) -> str:
    """The most telling line of a command's output: its last ``error:`` line, else its
    last line with any letters or digits (box-drawing borders are stripped)."""
    lines = [
        line.strip().strip("\u2502\u256d\u256e\u2570\u256f\u2500 ") for line in text.splitlines()
    ]
    errors = [line for line in lines if line.lower().startswith("error")]
    meaningful = [line for line in lines if any(char.isalnum() for char in line)]
    return (errors or meaningful or [""])[-1]


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
