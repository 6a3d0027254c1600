"""The one interface collection and restore use for any host, local or over SSH."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class FileData:
    path: str
    content: bytes
    mode: int  # permission bits


class HostAccess(ABC):
    """Files on one host. Errors are SourceAccessError naming the host and path."""

    name: str

    @abstractmethod
    def expand(self, pattern: str) -> list[str]:
        """Paths of regular files matching an absolute glob; a literal path as it is."""

    @abstractmethod
    def read(self, path: str, limit: int) -> FileData | None:
        """The file's bytes and mode; None if it does not exist; an error past ``limit``."""

    @abstractmethod
    def write_atomic(self, path: str, content: bytes, mode: int | None) -> None:
        """Replace the file at once: readers see the old or the new content, never a mix.

        The file keeps its owner; ``mode`` applies (None: keep the current mode,
        or 0644 for a new file). Symbolic links are followed: their target changes.
        """

    def close(self) -> None:  # noqa: B027  (most hosts hold nothing to release)
        """Release connections (nothing for the local host)."""

    def __enter__(self) -> HostAccess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
