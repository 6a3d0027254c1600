"""Snapshots: a named root tree plus where, when and by whom.

A snapshot object is sealed JSON stored as ``snapshots/ID``; ``ID`` is 256
random bits chosen when the snapshot is made and bound to the ciphertext as
associated data. The id (and the time) survive ``drkit copy`` to another
repository, so a snapshot keeps its identity everywhere it lives.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from drkit.errors import SnapshotNotFound, UsageError


def snapshot_aad(snapshot_id: str) -> bytes:
    return b"drkit-snapshot:" + snapshot_id.encode()


@dataclass
class Summary:
    """What one backup did."""

    files_new: int = 0
    files_changed: int = 0
    files_unmodified: int = 0
    dirs: int = 0
    files_total: int = 0
    bytes_total: int = 0
    bytes_read: int = 0
    data_blobs_added: int = 0
    tree_blobs_added: int = 0
    data_added: int = 0
    data_added_stored: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True)
class FileError:
    """A path that could not be read during backup."""

    path: str
    error: str


@dataclass
class Snapshot:
    time: datetime
    tree: bytes
    paths: list[str]
    hostname: str
    username: str
    tags: list[str] = field(default_factory=list)
    parent: str | None = None
    summary: Summary = field(default_factory=Summary)
    errors: list[FileError] = field(default_factory=list)
    program_version: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(32))
    # What a non-file source recorded about itself, e.g. {"source.type": "postgres"}.
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def complete(self) -> bool:
        return not self.errors

    def listing_json(self) -> dict[str, Any]:
        """One snapshot as `drkit snapshots --json` and the API list it."""
        return {
            "id": self.id,
            "short_id": self.short_id,
            "time": self.time,
            "hostname": self.hostname,
            "username": self.username,
            "paths": self.paths,
            "tags": self.tags,
            "parent": self.parent,
            "tree": self.tree.hex(),
            "complete": self.complete,
            "summary": self.summary.__dict__,
        }

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "version": 1,
            "id": self.id,
            "time": self.time.isoformat(),
            "tree": self.tree.hex(),
            "paths": self.paths,
            "hostname": self.hostname,
            "username": self.username,
            "tags": self.tags,
            "parent": self.parent,
            "summary": asdict(self.summary),
            "errors": [asdict(e) for e in self.errors],
            "program_version": self.program_version,
        }
        if self.meta:  # older readers never see the key; file snapshots stay as they were
            doc["meta"] = dict(self.meta)
        return doc

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Snapshot:
        return cls(
            id=doc["id"],
            time=datetime.fromisoformat(doc["time"]),
            tree=bytes.fromhex(doc["tree"]),
            paths=list(doc["paths"]),
            hostname=doc["hostname"],
            username=doc["username"],
            tags=list(doc.get("tags", [])),
            parent=doc.get("parent"),
            summary=Summary(**doc.get("summary", {})),
            errors=[FileError(**e) for e in doc.get("errors", [])],
            program_version=doc.get("program_version", ""),
            meta={str(k): str(v) for k, v in doc.get("meta", {}).items()},
        )


def find_snapshot(
    snapshots: list[Snapshot],
    ref: str,
    *,
    host: str | None = None,
    paths: list[str] | None = None,
    tags: list[str] | None = None,
) -> Snapshot:
    """Resolve ``latest`` or an id prefix (at least 4 hex digits) to one snapshot."""
    if ref == "latest":
        candidates = [s for s in snapshots if _matches(s, host, paths, tags)]
        if not candidates:
            raise SnapshotNotFound(
                "the repository has no snapshot" + _filters_text(host, paths, tags)
            )
        return max(candidates, key=lambda s: (s.time, s.id))
    if len(ref) < 4:
        raise UsageError(
            f"snapshot id {ref!r} is too short", hint="give at least 4 hex digits, or `latest`"
        )
    found = [s for s in snapshots if s.id.startswith(ref)]
    if not found:
        raise SnapshotNotFound(f"no snapshot has an id starting with {ref!r}")
    if len(found) > 1:
        raise UsageError(
            f"snapshot id {ref!r} is ambiguous ({len(found)} match)", hint="give more hex digits"
        )
    return found[0]


def _filters_text(host: str | None, paths: list[str] | None, tags: list[str] | None) -> str:
    wanted = [f"host {host}"] if host else []
    wanted += [f"paths {', '.join(paths)}"] if paths else []
    wanted += [f"tag {t}" for t in tags or []]
    return f" with {' and '.join(wanted)}" if wanted else ""


def _matches(
    s: Snapshot, host: str | None, paths: list[str] | None, tags: list[str] | None
) -> bool:
    if host and s.hostname != host:
        return False
    if paths and sorted(s.paths) != sorted(paths):
        return False
    return not tags or all(t in s.tags for t in tags)
