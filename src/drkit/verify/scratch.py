"""Scratch space for restore tests: made only when it fits, removed whatever happens.

Each test restores into a fresh ``drkit-restore-test-*`` directory under the
scratch root. Before that, the free space of the root must hold the
snapshot's content plus a margin; otherwise the test stops at once with
:class:`~drkit.verify.errors.ScratchUnavailable` instead of filling a disk
halfway through. Removal copes with what a restore leaves behind:
read-only directories (restored modes) are made writable first.

Each directory has an owner file beside it (``<dir>.owner``: pid and host
of the process that made it), so scratch left by a killed process (SIGKILL
runs no cleanup) is found and removed at the daemon's next start by
:func:`remove_stale_scratch`, while a test still running keeps its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

from drkit.processes import process_alive
from drkit.verify.errors import ScratchUnavailable

PREFIX = "drkit-restore-test-"
MARGIN_BYTES = 64 * 1024 * 1024  # directories, metadata and what else writes there meanwhile
MARGIN_FRACTION = 0.05
OWNER_SUFFIX = ".owner"
UNOWNED_GRACE_S = 600  # a directory without an owner file this old is stale (an older drkit)


def needed_space(content_bytes: int) -> int:
    return content_bytes + int(content_bytes * MARGIN_FRACTION) + MARGIN_BYTES


def make_scratch(root: Path, content_bytes: int) -> Path:
    """A new empty directory under ``root`` with room for ``content_bytes``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(root).free
    except OSError as exc:
        raise ScratchUnavailable(
            f"the scratch root {root} cannot be used: {exc.strerror or exc}"
        ) from exc
    needed = needed_space(content_bytes)
    if free < needed:
        raise ScratchUnavailable(
            f"not enough free space under the scratch root {root}: the restore test needs "
            f"{_mib(needed)} MiB ({_mib(content_bytes)} MiB of data plus a margin), "
            f"{_mib(free)} MiB are free"
        )
    try:
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        _owner(path).write_text(f"{os.getpid()} {socket.gethostname()}\n")
        return path
    except OSError as exc:
        raise ScratchUnavailable(
            f"cannot create a directory under the scratch root {root}: {exc.strerror or exc}"
        ) from exc


def _owner(path: Path) -> Path:
    return path.with_name(path.name + OWNER_SUFFIX)


def remove_stale_scratch(root: Path) -> list[str]:
    """Remove restore-test directories under ``root`` whose process is gone; return them.

    A directory is stale when its owner file names a process of this host that
    no longer runs, or when it has no owner file and is older than a grace.
    Directories of other hosts (a shared scratch root) are left alone.
    """
    removed: list[str] = []
    try:
        entries = sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and p.is_dir())
    except OSError:
        return removed
    for path in entries:
        if _is_stale(path) and not remove_scratch(path):
            removed.append(str(path))
    return removed


def _is_stale(path: Path) -> bool:
    try:
        pid, host = _owner(path).read_text().split()[:2]
    except (OSError, ValueError):
        try:
            return time.time() - path.stat().st_mtime > UNOWNED_GRACE_S
        except OSError:
            return False
    return host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid))


def remove_scratch(path: Path) -> str:
    """Remove ``path`` and everything in it; an error message, or "" when it is gone."""
    try:
        _owner(path).unlink(missing_ok=True)
    except OSError:
        pass
    if not os.path.lexists(path):
        return ""
    _make_writable(path)
    failures: list[str] = []
    shutil.rmtree(path, onerror=lambda _f, p, exc: failures.append(f"{p}: {exc[1]}"))
    if os.path.lexists(path):
        return f"could not remove {path}: " + "; ".join(failures[:3])
    return ""


def _make_writable(path: Path) -> None:
    """Give the owner rwx on every directory, so rmtree can empty them (needed without root)."""
    for dirpath, dirnames, _files in os.walk(path):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(full, st.st_mode | stat.S_IRWXU)
            except OSError:
                pass  # rmtree reports what it still cannot remove


def _mib(n: int) -> int:
    return -(-n // (1024 * 1024))
