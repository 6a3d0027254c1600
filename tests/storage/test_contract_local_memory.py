"""The Backend contract for the local folder and in-memory backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.storage.base import Backend
from drkit.storage.local import LocalBackend
from drkit.storage.memory import MemoryBackend
from drkit.storage.registry import open_backend
from tests.storage.contract import BackendContract


class TestLocalBackend(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        backend = LocalBackend(tmp_path / "repo")
        backend.create()
        return backend

    def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, LocalBackend)
        return open_backend(str(backend.root))


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    def backend(self) -> Backend:
        backend = MemoryBackend()
        backend.create()
        return backend
