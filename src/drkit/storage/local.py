"""Local filesystem backend: a repository in a directory.

Layout (the same as every backend's key space)::

    config  keys/ID  locks/ID  snapshots/ID  index/ID  data/XX/ID

Packs are spread over 256 folders by the first two hex digits of their name
so no folder grows past a few thousand entries. Atomic writes: a hidden
temporary file in the target folder, fsync, rename, fsync of the folder.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from drkit.errors import (
    ObjectNotFound,
    RepositoryExists,
    RepositoryNotFound,
    StorageError,
    StorageFull,
    StorageReadOnly,
)
from drkit.plugins import Plugin
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo, StorageSettings
from drkit.storage.ownership import Ownership

_TMP_PREFIX = ".tmp-"


class LocalBackend(Backend):
    """A repository stored in a local (or mounted) directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)
        self._ownership: Ownership | None = None

    @property
    def ownership(self) -> Ownership:
        """The owner and modes of new files (see :mod:`drkit.storage.ownership`)."""
        if self._ownership is None:
            found = Ownership.read(self.root)
            if found is None:
                return Ownership.of_root(0o700, os.geteuid(), os.getegid(), os.geteuid())
            self._ownership = found
        return self._ownership

    def _path(self, kind: FileKind, name: str) -> Path:
        if kind is FileKind.CONFIG:
            return self.root / "config"
        if kind is FileKind.PACK:
            return self.root / "data" / name[:2] / name
        return self.root / kind.value / name

    def create(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise RepositoryExists(
                f"{self.root} is a file", hint="choose a new folder for the repository"
            )
        if (self.root / "config").exists():
            raise RepositoryExists(f"a repository already exists at {self.root}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._ownership = None
            own = self.ownership
            for kind in (FileKind.KEY, FileKind.LOCK, FileKind.SNAPSHOT, FileKind.INDEX):
                own.make_folder(self.root / kind.value)
            for i in range(256):
                own.make_folder(self.root / "data" / f"{i:02x}")
        except OSError as exc:
            raise translate_os_error(
                exc, f"cannot create a repository at {self.root}", write=True
            ) from exc

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        path = self._path(kind, name)
        tmp = path.parent / f"{_TMP_PREFIX}{name}-{secrets.token_hex(4)}"
        own = self.ownership
        try:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileNotFoundError:
                own.make_folder(path.parent)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise translate_os_error(exc, f"cannot write {path}", write=True) from exc
        try:
            own.apply_fd(fd)
            _write_all(fd, parts)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)
            raise translate_os_error(exc, f"cannot write {path}", write=True) from exc

    def staging_dir(self) -> Path:
        return self.root / "data"

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        """Move a staged file into place: it was written on this filesystem."""
        target = self._path(kind, name)
        own = self.ownership
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                own.apply_fd(fd)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.replace(path, target)
            except FileNotFoundError:
                own.make_folder(target.parent)
                os.replace(path, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise translate_os_error(exc, f"cannot write {target}", write=True) from exc

    def remove_staging(self) -> int:
        """Remove staging and temporary files left by crashed writers; call only while
        holding an exclusive lock, when no writer can be running."""
        removed = 0
        for folder in (
            self.root / "data",
            *(self.root / k.value for k in FileKind if k is not FileKind.CONFIG),
        ):
            removed += _remove_temps(folder)
        for sub in (self.root / "data").glob("[0-9a-f][0-9a-f]"):
            removed += _remove_temps(sub)
        return removed

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        path = self._path(kind, name)
        try:
            with open(path, "rb", buffering=0) as fh:
                if offset:
                    fh.seek(offset)
                return fh.read() if length is None else fh.read(length)
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{kind.value}/{name} does not exist in {self.root}") from exc
        except OSError as exc:
            raise translate_os_error(exc, f"cannot read {path}") from exc

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        if kind is FileKind.CONFIG and self.root.exists() and not self.root.is_dir():
            raise RepositoryNotFound(
                f"{self.root} is a file, not a repository folder",
                hint="pass the repository's folder with --repo / DRKIT_REPO",
            )
        try:
            return ObjectInfo(name, self._path(kind, name).stat().st_size)
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{kind.value}/{name} does not exist in {self.root}") from exc
        except OSError as exc:
            raise translate_os_error(exc, f"cannot stat {kind.value}/{name}") from exc

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        if kind is FileKind.CONFIG:
            if (self.root / "config").exists():
                yield self.stat(kind, "config")
            return
        base = self.root / kind.value
        folders = [base]
        if kind is FileKind.PACK:
            try:
                folders = [
                    base / d
                    for d in sorted(os.listdir(base))
                    if not d.startswith(_TMP_PREFIX) and (base / d).is_dir()
                ]
            except FileNotFoundError:
                return
            except OSError as exc:
                raise translate_os_error(exc, f"cannot list {base}") from exc
        for folder in folders:
            yield from _list_folder(folder)

    def remove(self, kind: FileKind, name: str) -> None:
        try:
            self._path(kind, name).unlink(missing_ok=True)
        except OSError as exc:
            raise translate_os_error(exc, f"cannot remove {kind.value}/{name}", write=True) from exc


def _list_folder(folder: Path) -> Iterator[ObjectInfo]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(_TMP_PREFIX) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            yield ObjectInfo(entry.name, entry.stat(follow_symlinks=False).st_size)
        except FileNotFoundError:
            continue  # removed while listing


def _remove_temps(folder: Path) -> int:
    removed = 0
    for path in folder.glob(f"{_TMP_PREFIX}*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _write_all(fd: int, parts: Sequence[Buffer]) -> None:
    pending = [memoryview(p) for p in parts if len(p)]
    while pending:
        written = os.writev(fd, pending[:1024])
        while written and pending:
            head = pending[0]
            if written >= len(head):
                written -= len(head)
                pending.pop(0)
            else:
                pending[0] = head[written:]
                written = 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def translate_os_error(exc: OSError, what: str, *, write: bool = False) -> StorageError:
    """The storage error a user should see for an OSError from the local filesystem."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"{what}: the disk is full ({exc.strerror})")
    if write and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageReadOnly(
            f"{what}: {exc.strerror}",
            hint="check the permissions of the repository folder; a read-only repository "
            "can still be restored and checked (without a lock)",
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StorageError(
            f"{what}: {exc.strerror}", hint="check the permissions of the repository folder"
        )
    return StorageError(f"{what}: {exc.strerror or exc}")


class LocalSettings(StorageSettings):
    """A folder on this machine: ``/path``, ``./path`` or ``file:///path``."""

    type: Literal["file"] = "file"


def build(settings: LocalSettings) -> LocalBackend:
    url = settings.url
    path = urlparse(url).path if url.startswith("file://") else url
    return LocalBackend(Path(path).expanduser().absolute())


PLUGIN = Plugin("file", LocalSettings, build, "a local folder", schemes=("file",))
