"""Column types shared by the catalog's tables, and the catalog's clock.

SQLite keeps no time zone, PostgreSQL does: :class:`UTCDateTime` stores naive
UTC in both and hands back aware UTC datetimes, so comparisons never mix the
two kinds. It is defined in :mod:`drkit.catalog.utc_column` and loaded on first
use, so a command that only wants :func:`utcnow` (`drkit jobs`) imports no
SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.catalog.utc_column import UTCDateTime

__all__ = ["UTCDateTime", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def __getattr__(name: str) -> Any:
    if name == "UTCDateTime":
        from drkit.catalog.utc_column import UTCDateTime

        return UTCDateTime
    raise AttributeError(f"module 'drkit.catalog.types' has no attribute {name!r}")
