"""Runbook versions in the catalog: every saved change, with its author, time and content.

A runbook file is versioned when drkit first sees it changed (``runbook
run``, ``list``, ``save``, ``validate --record``): its version (a hash of
the canonical content, so layout and comments do not count) is compared with
the newest recorded one, and a new row is added when they differ. Runs
record the version they ran as ``subject_version``, and a resume or re-run
uses exactly that content, even if the file changed since.
"""

from __future__ import annotations

import difflib
import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.runbooks.errors import RunbookNotFound
from drkit.runbooks.loader import LoadedRunbook, parse_runbook
from drkit.runbooks.tables import RunbookVersionRow


@dataclass(frozen=True)
class RunbookVersion:
    name: str
    version: str
    author: str
    created_at: datetime
    path: str
    content: str


def current_author() -> str:
    """Who saves: ``$DRKIT_AUTHOR``, else the user running drkit."""
    configured = os.environ.get("DRKIT_AUTHOR")
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(catalog: Catalog, loaded: LoadedRunbook, author: str | None = None) -> RunbookVersion:
    """The recorded version of ``loaded``; a new one if it differs from the newest."""
    newest = _newest(catalog, loaded.name)
    if newest is not None and newest.version == loaded.version:
        return newest
    row = RunbookVersionRow(
        name=loaded.name,
        version=loaded.version,
        author=author or current_author(),
        created_at=utcnow(),
        path=str(loaded.path),
        content=loaded.text,
    )
    with catalog.session() as session:
        session.add(row)
    return _view(row)


def history(catalog: Catalog, name: str) -> list[RunbookVersion]:
    """Every recorded version of ``name``, newest first."""
    query = (
        select(RunbookVersionRow)
        .where(RunbookVersionRow.name == name)
        .order_by(RunbookVersionRow.id.desc())
    )
    with catalog.session() as session:
        return [_view(row) for row in session.scalars(query)]


def get(catalog: Catalog, name: str, version: str) -> RunbookVersion:
    """The version of ``name`` whose hash starts with ``version`` (newest row if recorded twice)."""
    found = [v for v in history(catalog, name) if v.version.startswith(version)]
    distinct = {v.version for v in found}
    if not found:
        raise RunbookNotFound(
            f"runbook {name!r} has no version {version!r}",
            hint=f"`drkit runbook log {name}` lists its versions",
        )
    if len(distinct) > 1:
        raise RunbookNotFound(
            f"{version!r} names several versions of {name!r}: {', '.join(sorted(distinct))}",
            hint="give more characters of the version",
        )
    return found[0]


def load_version(catalog: Catalog, name: str, version: str) -> LoadedRunbook:
    """The runbook exactly as recorded in that version."""
    found = get(catalog, name, version)
    return parse_runbook(found.content, Path(f"{name}@{found.version}"))


def diff(a: RunbookVersion, b: RunbookVersion) -> str:
    """A unified diff from version ``a`` to version ``b``."""
    lines = difflib.unified_diff(
        a.content.splitlines(keepends=True),
        b.content.splitlines(keepends=True),
        fromfile=f"{a.name}@{a.version}",
        tofile=f"{b.name}@{b.version}",
    )
    return "".join(lines)


def _newest(catalog: Catalog, name: str) -> RunbookVersion | None:
    found = history(catalog, name)
    return found[0] if found else None


def _view(row: RunbookVersionRow) -> RunbookVersion:
    return RunbookVersion(row.name, row.version, row.author, row.created_at, row.path, row.content)
