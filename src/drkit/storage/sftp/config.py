"""The SFTP repository URL: user, host, port, path, key, known_hosts, timeout."""

from __future__ import annotations

import getpass
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from drkit.errors import (
    UsageError,
)
from drkit.plugins import Plugin
from drkit.storage.base import Backend, StorageSettings

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
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # "Invalid IPv6 URL": a '[' without its ']'
            raise _bad_url(url, f"it is not a URL ({exc})") from None
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


class SftpSettings(StorageSettings):
    """``sftp://USER@HOST:PORT/PATH[?...]`` (the parameters are in :mod:`drkit.storage.sftp`)."""

    type: Literal["sftp"] = "sftp"


def build(settings: SftpSettings) -> Backend:
    from drkit.storage.sftp.backend import SftpBackend  # paramiko only when SFTP is used

    return SftpBackend(SftpConfig.parse(settings.url))


PLUGIN = Plugin("sftp", SftpSettings, build, "a folder on an SSH server", schemes=("sftp",))
