"""Alembic environment: migrations run on the connection drkit hands over."""

from __future__ import annotations

from alembic import context

from drkit.catalog.tables import Base
from drkit.confighistory import tables as _confighistory_tables  # noqa: F401  (metadata)
from drkit.runbooks import tables as _runbook_tables  # noqa: F401  (metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
