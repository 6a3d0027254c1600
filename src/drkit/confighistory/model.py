"""What the configuration history is made of: scopes, versions and scope selectors.

A *scope* is one thing with its own history: drkit's own configuration
(``drkit``: drkit.yaml, runbooks and users with their permissions) or one
collected file (``file:HOST:/etc/nginx/nginx.conf``, HOST being ``local``
or a name from the inventory). A *version* is the content of a scope at one
moment, stored only when it differs from the scope's newest version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from drkit.confighistory.errors import BadReference, VersionNotFound
from drkit.confighistory.globbing import glob_match

DRKIT = "drkit"
LOCAL_HOST = "local"


class ScopeKind(StrEnum):
    DRKIT = "drkit"
    FILE = "file"


@dataclass(frozen=True, order=True)
class Scope:
    """drkit's own configuration, or one file on one host."""

    kind: ScopeKind
    host: str = ""
    path: str = ""

    @classmethod
    def drkit(cls) -> Scope:
        return cls(ScopeKind.DRKIT)

    @classmethod
    def file(cls, host: str, path: str) -> Scope:
        return cls(ScopeKind.FILE, host, path)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``drkit`` or ``file:HOST:/PATH`` (as :meth:`__str__` writes it)."""
        if text == DRKIT:
            return cls.drkit()
        kind, _, rest = text.partition(":")
        host, _, path = rest.partition(":")
        if kind != ScopeKind.FILE or not host or not path.startswith("/"):
            raise BadReference(
                f"{text!r} is not a scope", hint="write 'drkit' or 'file:HOST:/absolute/path'"
            )
        return cls.file(host, path)

    def __str__(self) -> str:
        if self.kind is ScopeKind.DRKIT:
            return DRKIT
        return f"file:{self.host}:{self.path}"

    @property
    def is_drkit(self) -> bool:
        return self.kind is ScopeKind.DRKIT

    @property
    def display(self) -> str:
        """How listings name the scope: ``drkit``, ``/etc/x`` or ``web1:/etc/x``."""
        if self.is_drkit:
            return DRKIT
        return self.path if self.host == LOCAL_HOST else f"{self.host}:{self.path}"


@dataclass(frozen=True)
class ConfigVersion:
    """One stored version (its content is read separately, decrypted on demand)."""

    id: int
    uid: str  # the same in every copy of the history (catalog, repositories)
    scope: Scope
    author: str
    created_at: datetime
    message: str
    content_hash: str  # SHA-256 of the normalised content
    size: int
    mode: int | None  # file permissions, for restoring a file that is gone

    @property
    def label(self) -> str:
        when = self.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.scope.display} #{self.id} ({when}, {self.author})"


@dataclass(frozen=True)
class ScopeSelector:
    """Which scopes a command line names.

    ``drkit``; ``file:HOST:PATH``; ``HOST:/PATH``; or ``/PATH`` on any host.
    PATH may be a glob (``/etc/nginx/*``).
    """

    drkit: bool = False
    host: str | None = None  # None: any host
    pattern: str = ""

    @classmethod
    def parse(cls, text: str) -> ScopeSelector:
        if text == DRKIT:
            return cls(drkit=True)
        if text.startswith("file:"):
            scope = Scope.parse(text)
            return cls(host=scope.host, pattern=scope.path)
        if text.startswith("/"):
            return cls(pattern=text)
        host, sep, path = text.partition(":")
        if sep and host and path.startswith("/"):
            return cls(host=host, pattern=path)
        raise BadReference(
            f"{text!r} names no configuration",
            hint="write 'drkit', an absolute path (/etc/nginx/nginx.conf, globs allowed), "
            "HOST:/path, or file:HOST:/path",
        )

    def matches(self, scope: Scope) -> bool:
        if self.drkit or scope.is_drkit:
            return self.drkit and scope.is_drkit
        if self.host is not None and scope.host != self.host:
            return False
        return glob_match(self.pattern, scope.path)


def select_scopes(known: Iterable[Scope], selectors: Iterable[str]) -> list[Scope]:
    """The known scopes the selectors name, in order; each selector must name at least one."""
    scopes = list(known)
    chosen: list[Scope] = []
    for text in selectors:
        selector = ScopeSelector.parse(text)
        matched = [scope for scope in scopes if selector.matches(scope)]
        if not matched:
            raise VersionNotFound(
                f"no configuration history matches {text!r}",
                hint="`drkit config log` lists what has versions",
            )
        chosen += [scope for scope in matched if scope not in chosen]
    return chosen
