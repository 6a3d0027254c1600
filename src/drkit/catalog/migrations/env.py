"""Alembic environment: migrations run on the connection drkit hands over.

The migration scripts carry the schema themselves, so running them needs no
table module. The catalog imports no domain (the layering test holds it): to
autogenerate a migration, import the domains' ``tables`` modules first so
``Base.metadata`` knows their tables.
"""

from __future__ import annotations

from alembic import context

from drkit.catalog.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
