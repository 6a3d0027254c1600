"""Which snapshot ``drkit db restore latest`` restores: the newest of ONE source.

A repository often holds dumps of several databases of the same type (two
clusters' ``postgres`` databases, ``app`` and ``billing``). ``latest`` must never
cross from one to another: the choice is made among snapshots of one source
(the snapshot's recorded root, e.g. ``/postgres/db1:5432/app``), named by
``--source`` (all or part of that root); else the sources whose database has
the target's name; else, when the target's name is new, every source of the
type. When more than one source is still possible, or ``--source`` matches
none, it refuses and lists the sources. Pure functions of the snapshot list.
"""

from __future__ import annotations

from collections.abc import Sequence

from drkit.errors import DrkitError, SnapshotNotFound, UsageError
from drkit.repository.snapshot import Snapshot

DATABASE_TYPES = ("postgres", "mariadb")  # roots end with the database name


def source_root(snapshot: Snapshot) -> str:
    return snapshot.paths[0] if snapshot.paths else ""


def pick_latest(
    snapshots: Sequence[Snapshot],
    kind: str | None,
    *,
    source: str | None = None,
    target_database: str | None = None,
) -> Snapshot:
    """The newest snapshot of the one source the arguments name (see module doc)."""
    from drkit.sources.base import META_TYPE

    typed = [s for s in snapshots if kind is None or s.meta.get(META_TYPE) == kind]
    if not typed:
        raise SnapshotNotFound(
            f"the repository has no {kind or 'database'} snapshot",
            hint="`drkit db list` lists them; `drkit db backup` makes one",
        )
    roots = sorted({source_root(s) for s in typed})
    if source is not None:
        chosen = [r for r in roots if source == r or source.strip("/") in r]
        why = f"--source {source!r}"
    elif target_database and kind in DATABASE_TYPES:
        same = [r for r in roots if r.rsplit("/", 1)[-1] == target_database]
        chosen = same or roots  # a new database's name names no source: one source is fine
        why = f"the target's database {target_database!r}" if same else f"the type {kind}"
    else:
        chosen, why = roots, f"the type {kind or 'database'}"
    listing = ", ".join(roots)
    if not chosen:
        raise SnapshotNotFound(
            f"no {kind or 'database'} snapshot matches {why}; the repository has: {listing}",
            hint="pass --source with one of those, or a snapshot id",
        )
    if len(chosen) > 1:
        raise UsageError(
            f"`latest` is ambiguous: {why} matches {len(chosen)} sources: {', '.join(chosen)}",
            hint="pass --source with one of them, or a snapshot id (`drkit db list`)",
        )
    return max((s for s in typed if source_root(s) == chosen[0]), key=lambda s: s.time)


def target_database(target: str, kind: str | None) -> str | None:
    """The database a restore target names (postgres DSN/URL, mariadb URL), if any."""
    if kind == "postgres":
        from drkit.sources.postgres_conn import PgAddress

        try:
            return PgAddress.parse(target).dbname or None
        except DrkitError:
            return None
    if kind == "mariadb":
        from urllib.parse import urlparse

        return urlparse(target).path.strip("/") or None
    return None
