"""SFTP backend: a repository in a folder on an SSH server (paramiko).

URL::

    sftp://USER@HOST:PORT/ABSOLUTE/PATH?key=PATH&known_hosts=PATH&timeout=SECONDS

``USER`` defaults to the local user and ``PORT`` to 22. ``key`` is a private
key file; without it the SSH agent and the default keys in ``~/.ssh`` are
tried (paramiko's rules). ``known_hosts`` defaults to ``~/.ssh/known_hosts``;
a host whose key is not in it is refused (never added on the fly), with a hint
saying how to add it. ``timeout`` (seconds, default 30) bounds connecting and
every single request.

Layout: the same as every backend's (``config keys/ID locks/ID snapshots/ID
index/ID data/XX/ID``). Writes are atomic: the object is uploaded to
``.tmp-NAME-RANDOM`` in its folder, checked for size, fsync'ed (OpenSSH's
``fsync@openssh.com``, when offered), then renamed into place with
``posix-rename@openssh.com``, which replaces a target atomically. Listings
skip ``.tmp-`` names, so half-written objects are never seen.

Threads: a paramiko ``SFTPClient`` serves one thread at a time, so the backend
keeps a small pool of SFTP channels (sessions) over one SSH connection; a call
borrows a channel for its duration. A connection found dead is replaced on the
next call. Errors are translated at this boundary: missing objects become
``ObjectNotFound``, lost connections and timeouts ``TransientStorageError``
(the retry wrapper calls again), a full disk ``StorageFull`` (best effort:
OpenSSH reports it as a bare "Failure", so the free space is asked with
``statvfs@openssh.com``), and refused host keys or logins a ``StorageError``
whose hint says what to fix.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import posixpath
import secrets
import socket
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import paramiko
from paramiko.sftp import CMD_EXTENDED, SFTPError

from drkit.errors import (
    DrkitError,
    ObjectNotFound,
    RepositoryExists,
    StorageError,
    StorageFull,
    TransientStorageError,
    UsageError,
)
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import translate_os_error

# paramiko logs dropped connections at ERROR; without a handler Python would print
# them on stderr. drkit reports those failures itself.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

DEFAULT_PORT = 22
DEFAULT_TIMEOUT = 30.0
DEFAULT_CHANNELS = 8  # OpenSSH allows 10 sessions per connection (MaxSessions)
_TMP_PREFIX = ".tmp-"
_WRITE_SIZE = 32 * 1024  # paramiko's largest SFTP read or write request
_FILE_READ = 1024 * 1024  # local read size when uploading a staged file
_SMALL_READ = 64 * 1024  # larger reads use paramiko's prefetch (pipelined reads)
# Large reads are prefetched a window at a time: 64 requests in flight, as OpenSSH's
# own client does (paramiko's own limit sleeps 10 ms whenever it is reached).
_PREFETCH_WINDOW = 64 * _WRITE_SIZE
_QUERY_KEYS = frozenset({"key", "known_hosts", "timeout"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SftpConfig:
    """Where an SFTP repository is and how to reach it."""

    host: str
    path: str
    user: str
    port: int = DEFAULT_PORT
    key: Path | None = None
    known_hosts: Path = Path("~/.ssh/known_hosts")
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(cls, url: str) -> SftpConfig:
        """Read an ``sftp://`` URL (format in the module docstring); UsageError if bad."""
        parts = urlsplit(url)
        if parts.scheme != "sftp" or not parts.hostname:
            raise _bad_url(url, "it must look like sftp://USER@HOST:PORT/PATH")
        if parts.password is not None:
            raise _bad_url(url, "passwords are not supported: log in with a key (key=PATH)")
        if parts.fragment:
            raise _bad_url(url, "remove the '#...' part")
        query = _parse_query(url, parts.query)
        return cls(
            host=parts.hostname,
            path=_parse_path(url, parts.path),
            user=unquote(parts.username) if parts.username else getpass.getuser(),
            port=_parse_port(url, parts),
            key=Path(query["key"]).expanduser() if "key" in query else None,
            known_hosts=Path(query.get("known_hosts", "~/.ssh/known_hosts")).expanduser(),
            timeout=_parse_timeout(url, query.get("timeout")),
        )

    @property
    def location(self) -> str:
        """The URL without its options, for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sftp://{self.user}@{host}:{self.port}{self.path}"

    @property
    def known_hosts_name(self) -> str:
        """How OpenSSH names this server in known_hosts."""
        return self.host if self.port == DEFAULT_PORT else f"[{self.host}]:{self.port}"


def _bad_url(url: str, hint: str) -> UsageError:
    return UsageError(f"invalid SFTP repository URL {url!r}", hint=hint)


def _parse_query(url: str, query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _bad_url(
            url, "options look like ?key=PATH&known_hosts=PATH&timeout=SECONDS"
        ) from None
    options = dict(pairs)
    unknown = sorted(set(options) - _QUERY_KEYS)
    if unknown or len(options) != len(pairs):
        known = ", ".join(sorted(_QUERY_KEYS))
        raise _bad_url(url, f"unknown or repeated options {unknown or pairs}; known: {known}")
    if any(not value for value in options.values()):
        raise _bad_url(url, "every option needs a value, e.g. key=/root/.ssh/id_ed25519")
    return options


def _parse_path(url: str, raw: str) -> str:
    path = posixpath.normpath(unquote(raw)) if raw else ""
    if not path.startswith("/") or path == "/" or path.startswith("//"):
        raise _bad_url(url, "give the repository's absolute folder: sftp://HOST/srv/backup")
    return path


def _parse_port(url: str, parts: SplitResult) -> int:
    try:
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise _bad_url(url, "the port must be a number from 1 to 65535") from None
    return int(port) if port else DEFAULT_PORT


def _parse_timeout(url: str, raw: str | None) -> float:
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        timeout = float(raw)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise _bad_url(url, "timeout must be a positive number of seconds, e.g. timeout=30")
    return timeout


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
            raise StorageError(
                f"{action} {what} on {self.location}: permission denied",
                hint=f"check that {self.config.user} may read and write {self._root} on the server",
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise StorageError(f"{action} {what} on {self.location}: {_describe(exc)}") from exc


# -- one SFTP operation at a time: small helpers -----------------------------------------


def _what(kind: FileKind, name: str) -> str:
    return "config" if kind is FileKind.CONFIG else f"{kind.value}/{name}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without paramiko's "[Errno None]"
    return str(exc) or type(exc).__name__


def _listdir_attr(sftp: paramiko.SFTPClient, folder: str) -> list[paramiko.SFTPAttributes]:
    """The folder's entries; none if the folder does not exist."""
    try:
        return sftp.listdir_attr(folder)
    except FileNotFoundError:
        return []


def _remove_missing_ok(sftp: paramiko.SFTPClient, path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        sftp.remove(path)


def _is_dir(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        return stat.S_ISDIR(sftp.stat(path).st_mode or 0)
    except FileNotFoundError:
        return False


def _makedirs(sftp: paramiko.SFTPClient, path: str) -> None:
    """``mkdir -p``: OpenSSH answers a bare "Failure" for a folder that exists."""
    try:
        sftp.mkdir(path)
    except FileNotFoundError:
        parent = posixpath.dirname(path)
        if parent == path:
            raise
        _makedirs(sftp, parent)
        _makedirs(sftp, path)
    except OSError:
        if not _is_dir(sftp, path):
            raise


def _create(sftp: paramiko.SFTPClient, path: str) -> paramiko.SFTPFile:
    """Open a new file for writing, creating its folder if it is missing."""
    try:
        return sftp.open(path, "wbx")
    except FileNotFoundError:
        _makedirs(sftp, posixpath.dirname(path))
        return sftp.open(path, "wbx")


def _upload(fh: paramiko.SFTPFile, pieces: Iterator[bytes], size: int) -> None:
    """Write every piece, pipelined, and make sure the server stored all of them.

    Pipelined writes do not wait for the server's answers, and paramiko drops
    the answers still pending at ``close``. A write made without pipelining
    collects every pending answer and raises on the first error, so the last
    piece is written that way. The size check catches any short write left.
    """
    fh.set_pipelined(True)
    last = b""
    for piece in pieces:
        if last:
            fh.write(last)
        last = piece
    fh.set_pipelined(False)
    if last:
        fh.write(last)
    stored = fh.stat().st_size
    if stored != size:
        raise OSError(f"the server stored {stored} of {size} bytes")


def _extended(sftp: paramiko.SFTPClient, request: str, *args: object) -> Any:
    """Send an SFTP extension request (paramiko has no public call for these)."""
    _, reply = sftp._request(CMD_EXTENDED, request, *args)  # type: ignore[attr-defined]
    return reply


def _fsync(sftp: paramiko.SFTPClient, fh: paramiko.SFTPFile) -> bool:
    """Flush the file to the server's disk; False if the server cannot (no retry then)."""
    try:
        _extended(sftp, "fsync@openssh.com", fh.handle)
    except OSError as exc:
        if exc.errno is None and "unsupported" in str(exc).lower():
            return False
        raise
    return True


def _rename(sftp: paramiko.SFTPClient, tmp: str, target: str, *, replace: bool) -> None:
    """Move ``tmp`` to ``target`` atomically, replacing it (POSIX rename).

    Without OpenSSH's extension a plain SFTP rename refuses an existing target:
    a lock is then removed first; any other object has the same content, so the
    existing one is kept.
    """
    try:
        sftp.posix_rename(tmp, target)
        return
    except OSError as exc:
        if exc.errno is not None or "unsupported" not in str(exc).lower():
            raise
    if replace:
        _remove_missing_ok(sftp, target)
    try:
        sftp.rename(tmp, target)
    except OSError:
        if replace or not _exists(sftp, target):
            raise
        _remove_missing_ok(sftp, tmp)


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _full_disk(exc: OSError, sftp: paramiko.SFTPClient, path: str, size: int) -> StorageFull | None:
    """StorageFull if a failed write met a full disk, else None.

    OpenSSH reports ENOSPC as a bare "Failure", so the free space decides.
    """
    if not _server_refused(exc) or not _channel_alive(sftp):
        return None
    free = _free_bytes(sftp, posixpath.dirname(path))
    if free is None or free >= max(size, _SMALL_READ):
        return None
    return StorageFull(
        f"cannot write {path}: the server's disk is full ({free} bytes free, {size} needed)"
    )


def _free_bytes(sftp: paramiko.SFTPClient, path: str) -> int | None:
    """Bytes free for unprivileged users at ``path`` (statvfs@openssh.com), or None."""
    try:
        reply = _extended(sftp, "statvfs@openssh.com", path)
        _bsize, frsize, _blocks, _bfree, bavail = (reply.get_int64() for _ in range(5))
    except Exception:  # best effort: an answer we cannot use is no answer
        return None
    return int(bavail) * int(frsize)


def _read(sftp: paramiko.SFTPClient, path: str, offset: int, length: int | None) -> bytes:
    """Read a range; large ranges are prefetched (many read requests in flight)."""
    with sftp.open(path, "rb") as fh:
        if length is not None and length <= _SMALL_READ:
            if length <= 0:
                return b""
            fh.seek(offset)
            return bytes(fh.read(length))
        size = fh.stat().st_size or 0
        end = size if length is None else min(size, offset + length)
        if end <= offset:
            return b""
        _quiet_prefetch(fh)
        pieces: list[bytes] = []
        for start in range(offset, end, _PREFETCH_WINDOW):
            stop = min(end, start + _PREFETCH_WINDOW)
            fh.seek(start)
            fh.prefetch(stop)  # every read request of the window in flight at once
            pieces.extend(_read_pieces(fh, stop - start))
        return b"".join(pieces)


def _quiet_prefetch(fh: paramiko.SFTPFile) -> None:
    """Keep paramiko's prefetch thread from printing a traceback when the connection
    drops: the reading thread meets the same failure and reports it."""
    send_requests = fh._prefetch_thread  # type: ignore[attr-defined]

    def run(*args: object) -> None:
        with contextlib.suppress(Exception):
            send_requests(*args)

    fh._prefetch_thread = run  # type: ignore[attr-defined]


def _read_pieces(fh: paramiko.SFTPFile, count: int) -> Iterator[bytes]:
    """``count`` bytes in request-sized reads: paramiko's large reads copy quadratically."""
    while count > 0:
        piece = fh.read(min(count, _WRITE_SIZE))
        if not piece:
            return
        yield piece
        count -= len(piece)


def _buffer_pieces(parts: Sequence[Buffer]) -> Iterator[bytes]:
    """The parts as bytes of at most one SFTP write request each."""
    for part in parts:
        view = memoryview(part).cast("B")
        for start in range(0, len(view), _WRITE_SIZE):
            yield bytes(view[start : start + _WRITE_SIZE])


def _file_pieces(fh: BinaryIO, path: Path) -> Iterator[bytes]:
    while True:
        try:
            block = fh.read(_FILE_READ)
        except OSError as exc:
            raise translate_os_error(exc, f"cannot read the staged file {path}") from exc
        if not block:
            return
        view = memoryview(block)
        for start in range(0, len(view), _WRITE_SIZE):
            yield bytes(view[start : start + _WRITE_SIZE])


# -- connections -------------------------------------------------------------------------


class _Disconnected(Exception):
    """The channel or connection broke during a call (raised from the original error)."""


class _UnknownHostKey(Exception):
    def __init__(self, key: paramiko.PKey) -> None:
        super().__init__("unknown host key")
        self.key = key


class _RejectUnknownHost(paramiko.MissingHostKeyPolicy):
    """Refuse hosts not in known_hosts, keeping the offered key for the message."""

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise _UnknownHostKey(key)


def connect(config: SftpConfig) -> paramiko.SSHClient:
    """An SSH connection to the server, host key checked and logged in."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_RejectUnknownHost())
    _load_known_hosts(client, config)
    pkey = _load_key(config.key.expanduser()) if config.key is not None else None
    try:
        client.connect(
            config.host,
            config.port,
            username=config.user,
            pkey=pkey,
            allow_agent=pkey is None,
            look_for_keys=pkey is None,
            timeout=config.timeout,
            banner_timeout=config.timeout,
            auth_timeout=config.timeout,
            channel_timeout=config.timeout,
        )
    except Exception as exc:
        client.close()
        raise _connect_error(exc, config) from exc
    return client


def _load_known_hosts(client: paramiko.SSHClient, config: SftpConfig) -> None:
    try:
        client.get_host_keys().load(str(config.known_hosts.expanduser()))
    except FileNotFoundError:
        return  # no known hosts: the server is unknown, and refused with a hint
    except OSError as exc:
        raise StorageError(
            f"cannot read the known hosts file {config.known_hosts}: {_describe(exc)}",
            hint="fix the file, or point known_hosts=PATH in the URL at another one",
        ) from exc


def _load_key(path: Path) -> paramiko.PKey:
    hint = "check key=PATH in the repository URL"
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise StorageError(f"the SSH key file {path} does not exist", hint=hint) from None
    except paramiko.PasswordRequiredException:
        raise StorageError(
            f"the SSH key {path} is protected by a passphrase",
            hint="load it into ssh-agent and leave key= out of the URL, "
            "or use a key without a passphrase",
        ) from None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise StorageError(f"cannot read the SSH key {path}: {_describe(exc)}", hint=hint) from exc


def _connect_error(exc: Exception, config: SftpConfig) -> DrkitError:
    """The error a user sees when connecting or logging in failed."""
    where = f"{config.user}@{config.host} port {config.port}"
    if isinstance(exc, DrkitError):
        return exc
    if isinstance(exc, _UnknownHostKey):
        return _unknown_host_error(exc.key, config)
    if isinstance(exc, paramiko.BadHostKeyException):
        return StorageError(
            f"the host key of {config.known_hosts_name} does not match {config.known_hosts}: "
            "someone may be intercepting the connection, or the server's key changed",
            hint="if the server was reinstalled, check its new key, then run "
            f"`ssh-keygen -R '{config.known_hosts_name}' -f {config.known_hosts}` "
            "and add the new key",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return StorageError(f"cannot log in to {where}: {_describe(exc)}", hint=_auth_hint(config))
    if isinstance(exc, socket.gaierror):
        return StorageError(
            f"cannot find the SFTP server {config.host}: {_describe(exc)}",
            hint="check the host name in the repository URL",
        )
    return TransientStorageError(
        f"cannot connect to {where}: {_describe(exc)}",
        hint="check that the server is up, that sshd listens on the port in the URL, "
        "and that the network lets you reach it; drkit retried",
    )


def _unknown_host_error(key: paramiko.PKey, config: SftpConfig) -> StorageError:
    port = f"-p {config.port} " if config.port != DEFAULT_PORT else ""
    return StorageError(
        f"the SFTP server {config.known_hosts_name} is not in {config.known_hosts} "
        f"(it offered the {key.get_name()} key {key.fingerprint})",
        hint=f"check the key's fingerprint with the server's admin, then add it: "
        f"`ssh-keyscan {port}{config.host} >> {config.known_hosts}` "
        "(or point known_hosts=PATH in the URL at a file that has it)",
    )


def _auth_hint(config: SftpConfig) -> str:
    if config.key is not None:
        return (
            f"check that the public key of {config.key} is in ~{config.user}/.ssh/authorized_keys "
            f"on {config.host}, and that key= names the right private key"
        )
    return (
        "no key was accepted from ssh-agent or ~/.ssh: pass key=PATH in the URL, "
        f"and add its public key to ~{config.user}/.ssh/authorized_keys on {config.host}"
    )


def _server_refused(exc: BaseException) -> bool:
    """Whether ``exc`` is the server's answer to one request (paramiko's plain IOError),
    or a failure drkit raised itself; not a lost or stuck connection."""
    return type(exc) is OSError or isinstance(exc, DrkitError)


def _channel_alive(sftp: paramiko.SFTPClient) -> bool:
    channel = sftp.get_channel()
    return channel is not None and not channel.closed and channel.get_transport().is_active()


def _connection_lost(exc: BaseException, sftp: paramiko.SFTPClient) -> bool:
    """Whether ``exc`` means the channel is unusable (rather than a refused request)."""
    if isinstance(exc, DrkitError | FileNotFoundError | PermissionError):
        return False
    if isinstance(exc, TimeoutError | ConnectionError | EOFError | paramiko.SSHException):
        return True
    if isinstance(exc, SFTPError):
        return True  # the SFTP conversation is out of step
    return not _channel_alive(sftp)


def _close_quietly(closable: paramiko.SFTPClient | paramiko.SSHClient) -> None:
    with contextlib.suppress(Exception):
        closable.close()


class _ChannelPool:
    """One SSH connection and up to ``size`` SFTP channels over it.

    A channel serves one thread at a time. The connection is opened on first
    use and again on the first call after it died; a timeout closes it, since
    the server stopped answering on it. Threads that waited while another one
    failed to connect get that failure at once instead of trying in turn.
    """

    def __init__(
        self, connect: Callable[[], paramiko.SSHClient], size: int, timeout: float
    ) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._idle: list[paramiko.SFTPClient] = []
        self._failures = 0  # failed connection attempts so far
        self._last_failure: DrkitError | None = None

    @contextlib.contextmanager
    def channel(self) -> Iterator[paramiko.SFTPClient]:
        with self._slots:
            sftp = self._checkout()
            try:
                yield sftp
            except BaseException as exc:
                lost = _connection_lost(exc, sftp)
                broken = lost or not isinstance(exc, Exception)
                self._release(sftp, broken=broken, drop=isinstance(exc, TimeoutError))
                if lost:
                    raise _Disconnected(_describe(exc)) from exc
                raise
            self._release(sftp, broken=False, drop=False)

    def is_connected(self) -> bool:
        with self._lock:
            return self._transport_locked() is not None

    def close(self) -> None:
        with self._lock:
            self._drop_locked()

    def _checkout(self) -> paramiko.SFTPClient:
        failures_before = self._failures
        with self._lock:
            client = self._client_locked(failures_before)
            while self._idle:
                sftp = self._idle.pop()
                if _channel_alive(sftp):
                    return sftp
                _close_quietly(sftp)
        return self._open_channel(client)

    def _open_channel(self, client: paramiko.SSHClient) -> paramiko.SFTPClient:
        transport = client.get_transport()
        try:
            if transport is None:
                raise EOFError("the connection is closed")
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise EOFError("the server did not open an SFTP session")
        except paramiko.ChannelException as exc:
            raise StorageError(
                f"the SFTP server refused another session: {_describe(exc)}",
                hint=f"allow more sessions per connection (sshd_config MaxSessions; "
                f"drkit opens up to {self._size})",
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            with self._lock:
                if self._client is client:
                    self._drop_locked()
            raise _Disconnected(f"cannot open an SFTP session: {_describe(exc)}") from exc
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(self._timeout)
        return sftp

    def _release(self, sftp: paramiko.SFTPClient, *, broken: bool, drop: bool) -> None:
        with self._lock:
            channel = sftp.get_channel()
            current = self._transport_locked()
            ours = (
                channel is not None and current is not None and channel.get_transport() is current
            )
            if ours and not broken and _channel_alive(sftp):
                self._idle.append(sftp)
                return
            if ours and drop:
                self._drop_locked()
        _close_quietly(sftp)

    def _client_locked(self, failures_before: int) -> paramiko.SSHClient:
        if self._client is not None and self._transport_locked() is not None:
            return self._client
        self._drop_locked()
        if self._failures != failures_before and self._last_failure is not None:
            last = self._last_failure  # it failed while this thread waited for the lock
            raise type(last)(last.message, hint=last.hint)
        try:
            self._client = self._connect()
        except DrkitError as exc:
            self._failures += 1
            self._last_failure = exc
            raise
        return self._client

    def _transport_locked(self) -> paramiko.Transport | None:
        transport = self._client.get_transport() if self._client is not None else None
        return transport if transport is not None and transport.is_active() else None

    def _drop_locked(self) -> None:
        idle, self._idle = self._idle, []
        for sftp in idle:
            _close_quietly(sftp)
        if self._client is not None:
            _close_quietly(self._client)
            self._client = None
