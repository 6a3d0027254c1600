"""Connecting with host key checking, and a pool of SFTP channels over one SSH connection."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
from paramiko.sftp import SFTPError

from drkit.errors import (
    DrkitError,
    StorageError,
    TransientStorageError,
)
from drkit.storage.sftp.config import DEFAULT_PORT, SftpConfig
from drkit.storage.sftp.ops import _channel_alive, _describe

# paramiko logs dropped connections at ERROR; without a handler Python would print
# them on stderr. drkit reports those failures itself.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


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
