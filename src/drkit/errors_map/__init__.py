"""Library exceptions translated into drkit errors by tables, one per library (as httpx maps).

A driver opens a boundary around its library calls instead of writing its
own ``try``/``except`` ladder::

    with PSYCOPG.boundary(SourceUnavailable, what=f"PostgreSQL at {label}"):
        conn = connect(...)

The first row of the table whose exception class (and, when given, text)
matches decides the message and the hint; the error class is the row's own,
else the boundary's (or its ``transient`` class for a row marked transient).
An exception no row names passes unchanged. Tables name the library's
classes by dotted path and resolve them only when an exception is matched,
so importing a table imports no library.

    tables: psycopg.py  httpx.py  sqlalchemy.py  paramiko.py
"""

from drkit.errors_map.base import ErrorTable, Row

__all__ = ["ErrorTable", "Row"]
