"""Storage backends: where repository objects live."""

from drkit.storage.base import Backend, FileKind, ObjectInfo
from drkit.storage.registry import open_backend

__all__ = ["Backend", "FileKind", "ObjectInfo", "open_backend"]
