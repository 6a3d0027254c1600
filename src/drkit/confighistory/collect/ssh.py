"""Files on a host of the inventory, over SSH (SFTP), with the host key checked.

The connection is made as the SFTP storage backend makes it (known_hosts
required, key login), and opened once per host for a whole collection or
restore. A restore writes a temporary file beside the target, fsyncs it
(``fsync@openssh.com``), and renames it over the target with
``posix-rename@openssh.com``, which replaces it atomically.
"""

from __future__ import annotations

import getpass
import posixpath
import secrets
import stat
from pathlib import Path

import paramiko
from paramiko.sftp import CMD_EXTENDED

from drkit.confighistory.collect.base import FileData, HostAccess
from drkit.confighistory.errors import SourceAccessError
from drkit.confighistory.globbing import expand
from drkit.errors import DrkitError
from drkit.settings.confighistory import HostSettings
from drkit.storage.sftp.config import SftpConfig
from drkit.storage.sftp.connection import connect

_READ_BLOCK = 1024 * 1024


class SshHost(HostAccess):
    """One inventory host; connects on first use."""

    def __init__(self, name: str, settings: HostSettings) -> None:
        self.name = name
        self.settings = settings
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def where(self) -> str:
        s = self.settings
        return f"{s.user or getpass.getuser()}@{s.address} port {s.port}"

    def _channel(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            s = self.settings
            config = SftpConfig(
                host=s.address,
                path="/",
                user=s.user or getpass.getuser(),
                port=s.port,
                key=Path(s.key).expanduser() if s.key else None,
                known_hosts=Path(s.known_hosts).expanduser(),
                timeout=s.timeout,
            )
            try:
                self._client = connect(config)
                self._sftp = self._client.open_sftp()
                channel = self._sftp.get_channel()
                if channel is not None:  # a server that stops answering fails, never hangs
                    channel.settimeout(s.timeout)
            except DrkitError as exc:
                raise SourceAccessError(
                    self.name, "", f"cannot connect ({self.where}): {exc.message}", hint=exc.hint
                ) from exc
            except (OSError, paramiko.SSHException) as exc:
                raise SourceAccessError(
                    self.name, "", f"cannot open SFTP ({self.where}): {exc}"
                ) from exc
        return self._sftp

    def _listdir(self, path: str) -> list[tuple[str, bool]]:
        try:
            entries = self._channel().listdir_attr(path)
        except OSError:
            return []
        return [(e.filename, stat.S_ISDIR(e.st_mode or 0)) for e in entries]

    def expand(self, pattern: str) -> list[str]:
        self._channel()  # a host that cannot be reached is an error, not "no files"
        return expand(pattern, self._listdir)

    def read(self, path: str, limit: int) -> FileData | None:
        sftp = self._channel()
        try:
            attrs = sftp.stat(path)
            if not stat.S_ISREG(attrs.st_mode or 0):
                raise SourceAccessError(self.name, path, "is not a regular file")
            if (attrs.st_size or 0) > limit:
                raise SourceAccessError(
                    self.name,
                    path,
                    f"is larger than max_file_size ({limit} bytes)",
                    hint="raise max_file_size for this source, or leave the file out",
                )
            with sftp.open(path, "rb") as fh:
                fh.prefetch(attrs.st_size)
                data = fh.read(limit + 1)
        except FileNotFoundError:
            return None
        except (OSError, paramiko.SSHException) as exc:
            raise SourceAccessError(self.name, path, f"cannot read: {_describe(exc)}") from exc
        return FileData(path, data, stat.S_IMODE(attrs.st_mode or 0o644))

    def write_atomic(self, path: str, content: bytes, mode: int | None) -> None:
        sftp = self._channel()
        try:
            target = sftp.normalize(path) if _exists(sftp, path) else path
            _replace(sftp, target, content, mode)
        except (OSError, paramiko.SSHException) as exc:
            raise SourceAccessError(self.name, path, f"cannot write: {_describe(exc)}") from exc

    def close(self) -> None:
        for closable in (self._sftp, self._client):
            if closable is not None:
                try:
                    closable.close()
                except Exception:
                    pass
        self._sftp = self._client = None


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _replace(sftp: paramiko.SFTPClient, target: str, content: bytes, mode: int | None) -> None:
    folder = posixpath.dirname(target)
    temp = posixpath.join(folder, f".drkit-restore-{secrets.token_hex(6)}")
    try:
        current: paramiko.SFTPAttributes | None = sftp.stat(target)
    except FileNotFoundError:
        current = None
    try:
        with sftp.open(temp, "wb") as fh:
            fh.set_pipelined(True)
            for start in range(0, len(content), _READ_BLOCK):
                fh.write(content[start : start + _READ_BLOCK])
            fh.flush()
            _fsync(sftp, fh)
        if current is not None:
            _keep_owner(sftp, temp, current)
        sftp.chmod(temp, _mode(mode, current))
        sftp.posix_rename(temp, target)
    except BaseException:
        try:
            sftp.remove(temp)
        except Exception:
            pass
        raise


def _mode(mode: int | None, current: paramiko.SFTPAttributes | None) -> int:
    if mode is not None:
        return mode
    return stat.S_IMODE(current.st_mode or 0o644) if current is not None else 0o644


def _keep_owner(sftp: paramiko.SFTPClient, temp: str, current: paramiko.SFTPAttributes) -> None:
    """Give the new file the old one's owner; only root can, and then it must."""
    if current.st_uid is None or current.st_gid is None:
        return
    try:
        sftp.chown(temp, current.st_uid, current.st_gid)
    except PermissionError:
        pass  # not root there: the file is ours, as the old one was for us to replace


def _fsync(sftp: paramiko.SFTPClient, fh: paramiko.SFTPFile) -> None:
    """Flush to the server's disk when it offers OpenSSH's extension (paramiko has no call)."""
    try:
        sftp._request(CMD_EXTENDED, "fsync@openssh.com", fh.handle)  # type: ignore[attr-defined]
    except OSError as exc:
        if "unsupported" not in str(exc).lower():
            raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
