"""The result of ``drkit check``: problems, counts, and the snapshots and paths damage reaches."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding about one stored object.

    ``kind`` is ``key``, ``index``, ``pack``, ``snapshot`` or ``blob``; ``name`` is the
    object's full name (a blob's id in hex).
    """

    kind: str
    name: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass(frozen=True)
class AffectedPath:
    """A path in a snapshot that cannot be restored in full, and why."""

    path: str
    reason: str


@dataclass
class AffectedSnapshot:
    id: str
    time: datetime
    paths: list[AffectedPath]

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass
class CheckCounts:
    snapshots: int = 0
    index_files: int = 0
    packs: int = 0  # packs in storage
    blobs: int = 0  # blobs in the index
    trees: int = 0  # distinct trees walked
    packs_read: int = 0
    blobs_read: int = 0
    bytes_read: int = 0


@dataclass
class CheckReport:
    """Everything a check found; ``ok`` when no error was found."""

    read_data: str | None  # the subset read ("all", "10%", "1/5"), None: structure only
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    damaged_blobs: list[bytes] = field(default_factory=list)
    affected: list[AffectedSnapshot] = field(default_factory=list)
    counts: CheckCounts = field(default_factory=CheckCounts)
    hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "read_data": self.read_data,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "damaged_blobs": [b.hex() for b in self.damaged_blobs],
            "affected": {
                a.id: [{"path": p.path, "reason": p.reason} for p in a.paths] for a in self.affected
            },
            "counts": asdict(self.counts),
            "hints": self.hints,
        }
