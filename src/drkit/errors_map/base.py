"""The table and its rows: which library exception becomes which drkit error, with what hint."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from drkit.errors import DrkitError


@dataclass(frozen=True)
class Row:
    """One library exception (by dotted class path, optionally by a phrase in its text).

    ``message`` is a template of ``{what}`` (the boundary's subject) and
    ``{detail}`` (the exception's text on one line).
    """

    exception: str  # "psycopg.OperationalError"
    message: str
    hint: str = ""
    contains: str = ""  # matched case-insensitively in the exception's text
    error: type[DrkitError] | None = None  # None: the boundary's class
    transient: bool = False  # worth retrying: the boundary's transient class, when it has one

    def matches(self, exc: BaseException) -> bool:
        cls = _resolve(self.exception)
        if cls is None or not isinstance(exc, cls):
            return False
        return not self.contains or self.contains.lower() in str(exc).lower()


@dataclass(frozen=True)
class ErrorTable:
    """The rows of one library, most specific first."""

    library: str
    rows: tuple[Row, ...]

    def row_for(self, exc: BaseException) -> Row | None:
        return next((row for row in self.rows if row.matches(exc)), None)

    def translate(
        self,
        exc: BaseException,
        default: type[DrkitError],
        *,
        what: str,
        transient: type[DrkitError] | None = None,
    ) -> DrkitError | None:
        """The drkit error for ``exc``; None when no row names it."""
        row = self.row_for(exc)
        if row is None:
            return None
        cls = row.error or (transient if row.transient and transient else default)
        message = row.message.format(what=what, detail=detail(exc))
        return cls(message, hint=row.hint or None)

    @contextmanager
    def boundary(
        self,
        default: type[DrkitError],
        *,
        what: str,
        transient: type[DrkitError] | None = None,
    ) -> Iterator[None]:
        """Translate what the library raises inside; anything else passes unchanged."""
        try:
            yield
        except DrkitError:
            raise
        except Exception as exc:
            error = self.translate(exc, default, what=what, transient=transient)
            if error is None:
                raise
            raise error from exc


def detail(exc: BaseException) -> str:
    """The exception's text on one line (libpq's are several), else its class name."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


@cache
def _resolve(path: str) -> type[BaseException] | None:
    """The class a dotted path names; None when its library is not installed."""
    module, _, name = path.rpartition(".")
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return value if isinstance(value, type) and issubclass(value, BaseException) else None
