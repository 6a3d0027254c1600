"""Storage backends: where repository objects live.

:func:`open_backend` (and with it every driver) is imported on first use, so a
module that only needs :mod:`drkit.storage.base` (a WAL file's kind, when
drkit.yaml names a physical PostgreSQL source) does not load the drivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drkit.storage.base import Backend, FileKind, ObjectInfo

if TYPE_CHECKING:
    from drkit.storage.registry import open_backend

__all__ = ["Backend", "FileKind", "ObjectInfo", "open_backend"]


def __getattr__(name: str) -> Any:
    if name == "open_backend":
        from drkit.storage.registry import open_backend

        return open_backend
    raise AttributeError(f"module 'drkit.storage' has no attribute {name!r}")
