"""Re-reading what every repository holds into the catalog's snapshots_seen.

The repository is the truth; the catalog caches its snapshot list so the
monitor, `drkit status` and /metrics answer without opening repositories.
Each repository is listed by a `drkit snapshots --json` process (its
passphrase resolved exactly as for any command); one that cannot be read is
reported, the others still refresh.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import SnapshotRow
from drkit.catalog.types import utcnow
from drkit.child import drkit_command, reported

log = logging.getLogger(__name__)

LIST_TIMEOUT_S = 600


@dataclass(frozen=True)
class SeenSnapshot:
    id: str
    time: datetime
    paths: tuple[str, ...]
    tags: tuple[str, ...]
    hostname: str
    bytes_added: int
    complete: bool


@dataclass(frozen=True)
class ScanResult:
    repository: str
    snapshots: int
    error: str | None


def list_snapshots(repository: str, config_file: str | None) -> list[SeenSnapshot]:
    """The snapshots of the named repository, read by a `drkit snapshots` process."""
    proc = subprocess.run(
        drkit_command("--repo", repository, "snapshots", "--json", config_file=config_file),
        capture_output=True,
        text=True,
        timeout=LIST_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(reported(proc.stderr) or proc.stderr)
    return [_seen(doc) for doc in json.loads(proc.stdout)]


def _seen(doc: dict[str, object]) -> SeenSnapshot:
    summary = doc.get("summary") or {}
    assert isinstance(summary, dict)
    return SeenSnapshot(
        id=str(doc["id"]),
        time=datetime.fromisoformat(str(doc["time"])),
        paths=tuple(str(p) for p in doc.get("paths", []) or []),  # type: ignore[attr-defined]
        tags=tuple(str(t) for t in doc.get("tags", []) or []),  # type: ignore[attr-defined]
        hostname=str(doc.get("hostname", "")),
        bytes_added=int(summary.get("data_added_stored", 0)),
        complete=bool(doc.get("complete", True)),
    )


def record_snapshots(catalog: Catalog, repository: str, seen: Sequence[SeenSnapshot]) -> None:
    """Make snapshots_seen match ``seen`` for ``repository``: add new, mark vanished as gone."""
    now = utcnow()
    by_id = {s.id: s for s in seen}
    with catalog.session() as session:
        rows = session.scalars(select(SnapshotRow).where(SnapshotRow.repository == repository))
        known = {row.snapshot_id: row for row in rows}
        for snap_id, row in known.items():
            if snap_id in by_id:
                row.last_seen, row.gone_at = now, None
            elif row.gone_at is None:
                row.gone_at = now
        for snap in seen:
            if snap.id not in known:
                session.add(_row(repository, snap, now))


def _row(repository: str, snap: SeenSnapshot, now: datetime) -> SnapshotRow:
    return SnapshotRow(
        repository=repository,
        snapshot_id=snap.id,
        time=snap.time,
        paths="\n".join(snap.paths),
        tags="\n".join(snap.tags),
        hostname=snap.hostname,
        bytes_added=snap.bytes_added,
        complete=snap.complete,
        first_seen=now,
        last_seen=now,
    )


def scan_repositories(
    catalog: Catalog, repositories: Sequence[str], config_file: str | None
) -> list[ScanResult]:
    results = []
    for name in repositories:
        try:
            seen = list_snapshots(name, config_file)
        except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
            log.warning("cannot list the snapshots of repository %s: %s", name, exc)
            results.append(ScanResult(name, 0, str(exc)))
            continue
        record_snapshots(catalog, name, seen)
        results.append(ScanResult(name, len(seen), None))
    return results
