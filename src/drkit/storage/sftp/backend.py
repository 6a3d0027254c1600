"""The SFTP backend: the local layout on a server, atomic writes by rename."""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko

from drkit.errors import (
    DrkitError,
    ObjectNotFound,
    RepositoryExists,
    StorageError,
    StorageReadOnly,
    TransientStorageError,
)
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import translate_os_error
from drkit.storage.sftp.config import _TMP_PREFIX, DEFAULT_CHANNELS, SftpConfig, T
from drkit.storage.sftp.connection import (
    _ChannelPool,
    _Disconnected,
    connect,
)
from drkit.storage.sftp.ops import (
    _buffer_pieces,
    _channel_alive,
    _create,
    _describe,
    _file_pieces,
    _fsync,
    _full_disk,
    _listdir_attr,
    _makedirs,
    _read,
    _remove_missing_ok,
    _rename,
    _server_refused,
    _upload,
    _what,
)

# the actions of _session that change the repository: refused, they mean "read-only"
_WRITES = ("cannot write", "cannot remove", "cannot create", "cannot clean")


class SftpBackend(Backend):
    """A repository in a folder on an SFTP server."""

    def __init__(self, config: SftpConfig, *, channels: int = DEFAULT_CHANNELS) -> None:
        self.config = config
        self.location = config.location
        self._root = config.path
        self._channels = channels
        self._pool = _ChannelPool(lambda: connect(config), channels, config.timeout)
        self._fsync_supported = True

    # -- the Backend calls ---------------------------------------------------------
    def create(self) -> None:
        if self.exists(FileKind.CONFIG, "config"):
            raise RepositoryExists(f"a repository already exists at {self.location}")
        folders = [f"{self._root}/{k.value}" for k in FileKind if k is not FileKind.CONFIG]
        with self._session("cannot create a repository at", self._root) as sftp:
            for folder in folders:
                _makedirs(sftp, folder)
        self._parallel(self._mkdir, [f"{self._root}/data/{i:02x}" for i in range(256)])

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        size = sum(memoryview(p).nbytes for p in parts)
        self._store(kind, name, _buffer_pieces(parts), size)

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        """Upload the staged file, rename it into place, then remove the local file."""
        try:  # the upload raises only drkit errors: an OSError is about the local file
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                self._store(kind, name, _file_pieces(fh, path), size)
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise translate_os_error(exc, f"cannot read the staged file {path}") from exc

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        path = self._path(kind, name)
        with self._session("cannot read", _what(kind, name)) as sftp:
            return _read(sftp, path, offset, length)

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        with self._session("cannot stat", _what(kind, name)) as sftp:
            return ObjectInfo(name, sftp.stat(self._path(kind, name)).st_size or 0)

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        if kind is FileKind.CONFIG:
            with contextlib.suppress(ObjectNotFound):
                yield self.stat(kind, "config")
            return
        yield from self._parallel(self._list_folder, self._folders(kind))

    def remove(self, kind: FileKind, name: str) -> None:
        with self._session("cannot remove", _what(kind, name)) as sftp:
            _remove_missing_ok(sftp, self._path(kind, name))

    def remove_staging(self) -> int:
        """Remove ``.tmp-`` files left by crashed writers (only under an exclusive lock)."""
        folders = [self._root]
        for kind in FileKind:
            if kind is not FileKind.CONFIG:
                folders.extend(self._folders(kind))
        return sum(self._parallel(self._remove_temps, folders))

    def close(self) -> None:
        self._pool.close()

    def is_connected(self) -> bool:
        """Whether an SSH connection is open now (the next call reconnects if not)."""
        return self._pool.is_connected()

    # -- paths and folders ---------------------------------------------------------
    def _path(self, kind: FileKind, name: str) -> str:
        if kind is FileKind.CONFIG:
            return f"{self._root}/config"
        if kind is FileKind.PACK:
            return f"{self._root}/data/{name[:2]}/{name}"
        return f"{self._root}/{kind.value}/{name}"

    def _folders(self, kind: FileKind) -> Sequence[str]:
        """The folders holding objects of ``kind``: one, or data/XX for packs."""
        base = f"{self._root}/{kind.value}"
        if kind is not FileKind.PACK:
            return [base]
        with self._session("cannot list", "data") as sftp:
            entries = _listdir_attr(sftp, base)
        return [
            f"{base}/{e.filename}"
            for e in entries
            if stat.S_ISDIR(e.st_mode or 0) and not e.filename.startswith(_TMP_PREFIX)
        ]

    def _list_folder(self, folder: str) -> Sequence[ObjectInfo]:
        with self._session("cannot list", folder) as sftp:
            entries = _listdir_attr(sftp, folder)
        return [
            ObjectInfo(e.filename, e.st_size or 0)
            for e in entries
            if stat.S_ISREG(e.st_mode or 0) and not e.filename.startswith(_TMP_PREFIX)
        ]

    def _remove_temps(self, folder: str) -> Sequence[int]:
        with self._session("cannot clean", folder) as sftp:
            names = [e.filename for e in _listdir_attr(sftp, folder)]
            temps = [n for n in names if n.startswith(_TMP_PREFIX)]
            for name in temps:
                _remove_missing_ok(sftp, f"{folder}/{name}")
        return [len(temps)]

    def _mkdir(self, folder: str) -> Sequence[None]:
        with self._session("cannot create", folder) as sftp:
            _makedirs(sftp, folder)
        return []

    def _parallel(self, fn: Callable[[str], Sequence[T]], items: Sequence[str]) -> Sequence[T]:
        """``fn`` over ``items`` on up to ``channels`` threads; results flattened."""
        if len(items) <= 1:
            return [r for item in items for r in fn(item)]
        with ThreadPoolExecutor(min(self._channels, len(items))) as pool:
            return [r for chunk in pool.map(fn, items) for r in chunk]

    # -- writing -------------------------------------------------------------------
    def _store(self, kind: FileKind, name: str, pieces: Iterator[bytes], size: int) -> None:
        target = self._path(kind, name)
        folder = posixpath.dirname(target)
        tmp = f"{folder}/{_TMP_PREFIX}{name}-{secrets.token_hex(4)}"
        with self._session("cannot write", _what(kind, name)) as sftp:
            try:
                self._write_tmp(sftp, tmp, pieces, size)
                _rename(sftp, tmp, target, replace=kind is FileKind.LOCK)
            except BaseException as exc:
                if _server_refused(exc) and _channel_alive(sftp):  # else prune cleans up
                    with contextlib.suppress(Exception):
                        _remove_missing_ok(sftp, tmp)
                raise

    def _write_tmp(
        self, sftp: paramiko.SFTPClient, tmp: str, pieces: Iterator[bytes], size: int
    ) -> None:
        try:
            with _create(sftp, tmp) as fh:
                _upload(fh, pieces, size)
                if self._fsync_supported:
                    self._fsync_supported = _fsync(sftp, fh)
        except OSError as exc:
            full = _full_disk(exc, sftp, tmp, size)
            if full is not None:
                raise full from exc
            raise

    # -- errors --------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self, action: str, what: str) -> Iterator[paramiko.SFTPClient]:
        """Borrow a channel; translate what goes wrong into drkit's storage errors."""
        try:
            with self._pool.channel() as sftp:
                yield sftp
        except DrkitError:
            raise
        except _Disconnected as exc:
            raise TransientStorageError(
                f"{action} {what} on {self.location}: the connection failed ({exc})"
            ) from exc.__cause__
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{what} does not exist in {self.location}") from exc
        except PermissionError as exc:
            if action in _WRITES:  # like the local fallback: reads may still work
                raise StorageReadOnly(
                    f"{action} {what} on {self.location}: permission denied",
                    hint=f"{self.config.user} may not write {self._root} on the server; a "
                    "read-only repository can still be restored and checked (without a lock)",
                ) from exc
            raise StorageError(
                f"{action} {what} on {self.location}: permission denied",
                hint=f"check that {self.config.user} may read and write {self._root} on the server",
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise StorageError(f"{action} {what} on {self.location}: {_describe(exc)}") from exc


# -- one SFTP operation at a time: small helpers -----------------------------------------
