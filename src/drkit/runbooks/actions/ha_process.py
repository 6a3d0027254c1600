"""Pid files and process liveness for ``process.start`` / ``process.stop``.

A pid file holds one decimal pid. A pid is only trusted while its process is
alive and started no later than the pid file was written: a pid the kernel
reused for an unrelated process after ours died looks younger than the file,
so a stop never signals a stranger. Zombies (our own children that exited)
count as gone, and are reaped when they are ours.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from drkit.runbooks.errors import ActionFailed

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_SLACK_S = 2.0  # the pid file is written a moment after the process starts


def live_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` if that process is alive and is the one that wrote it."""
    pid = _read_pid(pidfile)
    if pid is None or not alive(pid):
        return None
    started = _start_time(pid)
    try:
        written = pidfile.stat().st_mtime
    except OSError:
        return None
    if started is not None and started > written + _SLACK_S:
        return None  # the pid was reused by a newer process
    return pid


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie is not running; our own zombies are reaped)."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X", None)


def write_pidfile(pidfile: Path, pid: int) -> None:
    """Write the pid atomically (a reader never sees a half-written file)."""
    try:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        tmp = pidfile.with_name(f".{pidfile.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{pid}\n")
        os.replace(tmp, pidfile)
    except OSError as exc:
        raise ActionFailed(
            f"cannot write the pid file {pidfile}: {exc.strerror or exc}",
            hint="check that its directory exists and drkit may write there",
        ) from exc


def remove_pidfile(pidfile: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()


def _read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ActionFailed(f"cannot read {pidfile}: {exc.strerror}", hint="") from exc
    if not text.isdigit() or int(text) <= 1:
        raise ActionFailed(
            f"{pidfile} does not hold a pid: {text[:40]!r}",
            hint="remove the file if the process is gone",
        )
    return int(text)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ..." where comm may hold spaces and parentheses
    return stat.rsplit(")", 1)[1].split()


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _start_time(pid: int) -> float | None:
    """When ``pid`` started, in seconds since the epoch (from /proc), or None."""
    fields = _stat_fields(pid)
    if not fields:
        return None
    ticks = int(fields[19])  # field 22 of stat; fields[0] is field 3
    return _boot_time() + ticks / _CLOCK_TICKS


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0
