"""SQLAlchemy (the catalog) exceptions: a locked SQLite file, an unreachable server, the schema."""

from __future__ import annotations

from drkit.errors_map.base import ErrorTable, Row

SQLALCHEMY = ErrorTable(
    "sqlalchemy",
    (
        Row(
            "sqlalchemy.exc.OperationalError",
            "{what}: the SQLite file is locked by another process ({detail})",
            "another drkit holds it; try again, or move the catalog to PostgreSQL",
            contains="database is locked",
            transient=True,
        ),
        Row(
            "sqlalchemy.exc.OperationalError",
            "{what}: {detail}",
            "run `drkit catalog upgrade` (or start `drkit serve`, which upgrades it)",
            contains="no such table",
        ),
        Row(
            "sqlalchemy.exc.OperationalError",
            "{what}: the database cannot be used ({detail})",
            "check the catalog URL (catalog: in drkit.yaml) and that its server runs",
            transient=True,
        ),
        Row(
            "sqlalchemy.exc.IntegrityError",
            "{what}: the change conflicts with what is stored ({detail})",
            "someone changed the same record at the same time: run the command again",
        ),
        Row(
            "sqlalchemy.exc.ArgumentError",
            "{what}: not a database URL ({detail})",
            "write it as sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
        ),
        Row("sqlalchemy.exc.SQLAlchemyError", "{what}: {detail}"),
    ),
)
