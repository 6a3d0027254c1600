"""The storage Backend interface: where repository files live.

A backend stores opaque, immutable objects named ``(kind, name)``. Everything
above it (packs, index, snapshots, keys, locks) is built on these five calls,
so a new medium (S3, SFTP, tape staging) only implements this small contract.
Each method's contract is written beside it; the shared contract test suite
in ``tests/storage/contract.py`` holds every driver to it. Drivers declare
themselves to :data:`drkit.storage.registry.STORAGE` (see :class:`StorageSettings`).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drkit.plugins import PluginSettings

Buffer = bytes | bytearray | memoryview


class FileKind(StrEnum):
    """The kinds of object in a repository; the value is the folder name."""

    CONFIG = "config"
    KEY = "keys"
    LOCK = "locks"
    SNAPSHOT = "snapshots"
    INDEX = "index"
    PACK = "data"
    # PostgreSQL WAL archive: one sealed object per WAL file, named by the file
    # (docs/repository-format.md "WAL archive"); never replaced once stored.
    WAL = "wal"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One listed object: its name and size in bytes."""

    name: str
    size: int


class StorageSettings(PluginSettings):
    """A repository's location, as its URL gives it; the driver's ``type`` is the URL scheme.

    Each driver declares ``PLUGIN = Plugin(scheme, its StorageSettings, builder,
    schemes=(scheme,))``; the builder opens the backend from ``url`` (and imports
    the driver's libraries only then, so naming S3 costs nothing until it is used).
    """

    url: str


class Backend(abc.ABC):
    """A place that holds a repository's objects."""

    location: str

    @abc.abstractmethod
    def create(self) -> None:
        """Prepare an empty location. Raises RepositoryExists if a config object exists."""

    @abc.abstractmethod
    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        """Store the concatenation of ``parts`` as one object, atomically.

        Readers see either no object or the whole object, never a part, even
        if the process dies mid-call. Saving a name that exists replaces it
        only for LOCK objects; for other kinds the name is derived from the
        content, so a replace writes the same bytes. Raises StorageFull when
        the medium is full (leaving no partial object) and StorageError on
        any other failure.
        """

    @abc.abstractmethod
    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """Return ``length`` bytes from ``offset`` (all of the rest if None).

        Raises ObjectNotFound if the object does not exist. A range past the
        end returns the bytes that exist (possibly none); callers check sizes.
        """

    @abc.abstractmethod
    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        """Return name and size. Raises ObjectNotFound if missing."""

    @abc.abstractmethod
    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        """Yield every complete object of ``kind``, in no particular order.

        Objects being written by a concurrent save are not listed.
        """

    @abc.abstractmethod
    def remove(self, kind: FileKind, name: str) -> None:
        """Delete an object. Must be idempotent: removing a missing object is not an error."""

    def staging_dir(self) -> Path | None:
        """A folder for staging pack files so ``save_file`` can be cheap; None: system temp."""
        return None

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        """Store the finished file at ``path`` as one object, then remove the file.

        Same atomicity as ``save``. The default reads the file and calls
        ``save``; a backend that can move or stream files overrides it.
        """
        self.save(kind, name, [path.read_bytes()])
        path.unlink()

    def remove_staging(self) -> int:
        """Remove temporary objects left by crashed writers; return how many.

        Only safe under an exclusive repository lock (prune), when no writer
        runs. Backends whose writes leave nothing behind keep this default.
        """
        return 0

    def exists(self, kind: FileKind, name: str) -> bool:
        from drkit.errors import ObjectNotFound

        try:
            self.stat(kind, name)
        except ObjectNotFound:
            return False
        return True

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections. Default: nothing to release."""
