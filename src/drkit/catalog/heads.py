"""The catalog's URL and the schema's head revisions, known without SQLAlchemy or Alembic."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path
from typing import Any

CATALOG_FILE_NAME = "catalog.db"


def default_catalog_url(home: Path) -> str:
    return f"sqlite:///{home / CATALOG_FILE_NAME}"


def normalise_url(url: str) -> str:
    """Let users write postgresql:// and get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def script_heads() -> set[str]:
    """The head revisions, read from the migration files without importing Alembic.

    A fast path only: when it and the database agree the schema is current;
    otherwise Alembic itself decides (and migrates).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("drkit.catalog") / "migrations" / "versions"
    for entry in versions.iterdir():
        if entry.name.endswith(".py") and entry.name != "__init__.py":
            found = _revision_fields(entry.read_text())
            revisions.add(str(found.get("revision")))
            down = found.get("down_revision")
            parents.update(down if isinstance(down, tuple) else () if down is None else (down,))
    return revisions - parents


_FIELD = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


def _revision_fields(source: str) -> dict[str, Any]:
    """``revision`` and ``down_revision`` of a migration file: read from their one-line
    assignments (parsing every file costs each command a few milliseconds), else from
    the whole file's syntax tree."""
    fields: dict[str, Any] = {}
    try:
        for match in _FIELD.finditer(source):
            fields[match.group(1)] = ast.literal_eval(match.group(2))
    except (ValueError, SyntaxError):
        fields = {}
    if "revision" in fields and "down_revision" in fields:
        return fields
    return _parsed_fields(source)


def _parsed_fields(source: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            named = isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
            if named and node.value is not None and isinstance(target, ast.Name):
                fields[target.id] = ast.literal_eval(node.value)
    return fields
