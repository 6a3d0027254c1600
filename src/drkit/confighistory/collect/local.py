"""Files on this machine."""

from __future__ import annotations

import os
import stat
import tempfile

from drkit.confighistory.collect.base import FileData, HostAccess
from drkit.confighistory.errors import SourceAccessError
from drkit.confighistory.globbing import expand
from drkit.confighistory.model import LOCAL_HOST


def _listdir(path: str) -> list[tuple[str, bool]]:
    try:
        with os.scandir(path) as entries:
            return [(e.name, e.is_dir()) for e in entries]
    except OSError:
        return []


class LocalHost(HostAccess):
    name = LOCAL_HOST

    def expand(self, pattern: str) -> list[str]:
        return expand(pattern, _listdir)

    def read(self, path: str, limit: int) -> FileData | None:
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise SourceAccessError(self.name, path, "is not a regular file")
                data = fh.read(limit + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceAccessError(self.name, path, f"cannot read: {exc.strerror}") from exc
        if len(data) > limit:
            raise SourceAccessError(
                self.name,
                path,
                f"is larger than max_file_size ({limit} bytes)",
                hint="raise max_file_size for this source, or leave the file out",
            )
        return FileData(path, data, stat.S_IMODE(st.st_mode))

    def write_atomic(self, path: str, content: bytes, mode: int | None) -> None:
        target = os.path.realpath(path)
        folder = os.path.dirname(target)
        try:
            os.makedirs(folder, exist_ok=True)
            _replace(target, folder, content, mode)
        except OSError as exc:
            raise SourceAccessError(self.name, path, f"cannot write: {exc.strerror}") from exc


def _replace(target: str, folder: str, content: bytes, mode: int | None) -> None:
    """Write a temporary file beside ``target``, fsync it, rename it over, fsync the folder."""
    try:
        current: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        current = None
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".drkit-restore-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            if current is not None and os.geteuid() == 0:
                os.fchown(fh.fileno(), current.st_uid, current.st_gid)
            if mode is None:
                mode = stat.S_IMODE(current.st_mode) if current is not None else 0o644
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
