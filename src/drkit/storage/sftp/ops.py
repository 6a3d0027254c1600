"""File operations on one SFTP channel, with paramiko's rough edges worked around."""

from __future__ import annotations

import contextlib
import posixpath
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import paramiko
from paramiko.sftp import CMD_EXTENDED

from drkit.errors import DrkitError, StorageFull
from drkit.storage.base import Buffer, FileKind
from drkit.storage.local import translate_os_error
from drkit.storage.sftp.config import _FILE_READ, _PREFETCH_WINDOW, _SMALL_READ, _WRITE_SIZE


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


def _server_refused(exc: BaseException) -> bool:
    """Whether ``exc`` is the server's answer to one request (paramiko's plain IOError),
    or a failure drkit raised itself; not a lost or stuck connection."""
    return type(exc) is OSError or isinstance(exc, DrkitError)


def _channel_alive(sftp: paramiko.SFTPClient) -> bool:
    channel = sftp.get_channel()
    return channel is not None and not channel.closed and channel.get_transport().is_active()
