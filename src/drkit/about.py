"""What `drkit --version` names: the release, the repository format, the catalog schema.

Read from constants and from the migration files' text, so the answer costs
no import of SQLAlchemy or Alembic (`drkit --version` stays a fast command).
"""

from __future__ import annotations

import ast
import platform
from importlib import resources

from drkit import __version__
from drkit.repository.repoconfig import FORMAT_VERSION

_MIGRATIONS = ("catalog", "migrations", "versions")


def catalog_heads() -> list[str]:
    """The newest catalog migrations: revisions that no other revision builds on."""
    revisions: set[str] = set()
    parents: set[str] = set()
    folder = resources.files("drkit").joinpath(*_MIGRATIONS)
    for entry in folder.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        found = _assignments(entry.read_text(encoding="utf-8"))
        revision = found.get("revision")
        if isinstance(revision, str):
            revisions.add(revision)
        down = found.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge migration
            parents.update(str(d) for d in down)
    return sorted(revisions - parents)


def _assignments(source: str) -> dict[str, object]:
    """Top-level ``name = literal`` (or ``name: type = literal``) of a migration file."""
    values: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def version_text() -> str:
    heads = catalog_heads()
    return "\n".join(
        [
            f"drkit {__version__}",
            f"repository format {FORMAT_VERSION}",
            f"catalog schema {'+'.join(heads)} (migration head{'s' if len(heads) > 1 else ''})",
            f"python {platform.python_version()}",
        ]
    )
