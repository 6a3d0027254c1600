"""The catalog: drkit's SQL state (runs and journals, snapshots seen, verifications, alerts).

SQLAlchemy 2 with Alembic migrations; SQLite under DRKIT_HOME by default,
PostgreSQL by URL. :class:`Catalog` is imported on first use, so a module of
the package that needs no SQLAlchemy (``views``, ``heads``, ``quick``) costs
none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drkit.catalog.heads import default_catalog_url

if TYPE_CHECKING:
    from drkit.catalog.engine import Catalog

__all__ = ["Catalog", "default_catalog_url"]


def __getattr__(name: str) -> Any:
    if name == "Catalog":
        from drkit.catalog.engine import Catalog

        return Catalog
    raise AttributeError(f"module 'drkit.catalog' has no attribute {name!r}")
