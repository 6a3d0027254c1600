"""In-memory backend for unit tests of the layers above storage."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Literal

from drkit.errors import ObjectNotFound, RepositoryExists
from drkit.plugins import Plugin
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo, StorageSettings


class MemoryBackend(Backend):
    """Holds objects in a dict; thread-safe; gone when the process ends."""

    def __init__(self, location: str = "memory:") -> None:
        self.location = location
        self._objects: dict[tuple[FileKind, str], bytes] = {}
        self._lock = threading.Lock()

    def create(self) -> None:
        if (FileKind.CONFIG, "config") in self._objects:
            raise RepositoryExists(f"a repository already exists at {self.location}")

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        data = b"".join(parts)
        with self._lock:
            self._objects[(kind, name)] = data

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            data = self._objects[(kind, name)]
        except KeyError:
            raise ObjectNotFound(f"{kind.value}/{name} does not exist") from None
        end = len(data) if length is None else offset + length
        return data[offset:end]

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        try:
            return ObjectInfo(name, len(self._objects[(kind, name)]))
        except KeyError:
            raise ObjectNotFound(f"{kind.value}/{name} does not exist") from None

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        with self._lock:
            items = [(n, len(d)) for (k, n), d in self._objects.items() if k is kind]
        for name, size in items:
            yield ObjectInfo(name, size)

    def remove(self, kind: FileKind, name: str) -> None:
        with self._lock:
            self._objects.pop((kind, name), None)


class MemorySettings(StorageSettings):
    """``memory:``: objects in this process's memory (tests)."""

    type: Literal["memory"] = "memory"


def build(settings: MemorySettings) -> MemoryBackend:
    return MemoryBackend(settings.url)


PLUGIN = Plugin("memory", MemorySettings, build, "in memory (tests)", schemes=("memory",))
