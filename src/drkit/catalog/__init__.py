"""The catalog: drkit's SQL state (runs and journals, snapshots seen, verifications, alerts).

SQLAlchemy 2 with Alembic migrations; SQLite under DRKIT_HOME by default,
PostgreSQL by URL.
"""

from drkit.catalog.engine import Catalog, default_catalog_url

__all__ = ["Catalog", "default_catalog_url"]
