"""Scratch space for restore tests: made only when it fits, removed whatever happens.

Each test restores into a fresh ``drkit-restore-test-*`` directory under the
scratch root. Before that, the free space of the root must hold the
snapshot's content plus a margin; otherwise the test stops at once with
:class:`~drkit.verify.errors.ScratchUnavailable` instead of filling a disk
halfway through. Removal copes with what a restore leaves behind:
read-only directories (restored modes) are made writable first.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from drkit.verify.errors import ScratchUnavailable

PREFIX = "drkit-restore-test-"
MARGIN_BYTES = 64 * 1024 * 1024  # directories, metadata and what else writes there meanwhile
MARGIN_FRACTION = 0.05


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
        return Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    except OSError as exc:
        raise ScratchUnavailable(
            f"cannot create a directory under the scratch root {root}: {exc.strerror or exc}"
        ) from exc


def remove_scratch(path: Path) -> str:
    """Remove ``path`` and everything in it; an error message, or "" when it is gone."""
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
