"""What a physical base backup records about itself, in its snapshot's ``meta``.

A base backup snapshot has ``source.type = postgres-physical`` and the keys
below, prefixed ``postgres-physical.``. They come from the ``backup_label``
inside the backup, the backup history file the server archives when the
backup ends, and the server itself; PITR and the chain check need nothing
else. :func:`parse_label` reads both label formats (``KEY: value`` lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

from drkit.repository.snapshot import Snapshot
from drkit.sources.wal_names import format_lsn, parse_lsn

if TYPE_CHECKING:  # the WAL chain's code loads when a chain is built
    from drkit.sources.wal_chain import BackupPoint

SOURCE_TYPE = "postgres-physical"
PREFIX = SOURCE_TYPE + "."
STREAM_NAME = "base.tar"


@dataclass(frozen=True)
class BackupLabel:
    """The fields of a ``backup_label`` or backup history file that drkit uses."""

    start_lsn: int
    checkpoint_lsn: int
    start_timeline: int
    label: str = ""
    stop_lsn: int | None = None  # only in the backup history file
    stop_timeline: int | None = None


_LSN_FIELD = re.compile(r"^([0-9A-Fa-f]+/[0-9A-Fa-f]+)")


def parse_label(text: str) -> BackupLabel:
    """Parse ``backup_label`` / ``*.backup`` text; ValueError when a needed line is missing."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            values[key.strip()] = value.strip()

    def lsn(key: str) -> int:
        match = _LSN_FIELD.match(values.get(key, ""))
        if match is None:
            raise ValueError(f"the backup label has no valid {key!r} line")
        return parse_lsn(match.group(1))

    stop = lsn("STOP WAL LOCATION") if "STOP WAL LOCATION" in values else None
    stop_tli = values.get("STOP TIMELINE")
    return BackupLabel(
        start_lsn=lsn("START WAL LOCATION"),
        checkpoint_lsn=lsn("CHECKPOINT LOCATION"),
        start_timeline=int(values.get("START TIMELINE", "1")),
        label=values.get("LABEL", ""),
        stop_lsn=stop,
        stop_timeline=int(stop_tli) if stop_tli and stop_tli.isdigit() else None,
    )


@dataclass(frozen=True)
class PhysicalBackupInfo:
    """The metadata of one base backup; all of it lives in the snapshot's meta."""

    system_identifier: int
    timeline: int
    start_lsn: int
    stop_lsn: int
    checkpoint_lsn: int
    start_time: datetime  # server clock before the backup began
    stop_time: datetime  # server clock after it ended: the backup is consistent before it
    wal_segment_size: int
    server_version: str
    backup_history_file: str
    stream: str  # the stream's path in the snapshot

    def to_meta(self) -> dict[str, str]:
        meta = {"source.type": SOURCE_TYPE}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_lsn"):
                text = format_lsn(value)
            elif isinstance(value, datetime):
                text = value.isoformat()
            else:
                text = str(value)
            meta[PREFIX + f.name] = text
        return meta

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> PhysicalBackupInfo:
        """Read it back; ValueError (naming the key) when the meta is incomplete."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = meta.get(PREFIX + f.name)
            if raw is None:
                raise ValueError(f"the snapshot's meta lacks {PREFIX + f.name}")
            if f.name.endswith("_lsn"):
                values[f.name] = parse_lsn(raw)
            elif f.name.endswith("_time"):
                values[f.name] = datetime.fromisoformat(raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def point(self, snapshot_id: str) -> BackupPoint:
        from drkit.sources.wal_chain import BackupPoint

        return BackupPoint(
            id=snapshot_id,
            system_id=self.system_identifier,
            timeline=self.timeline,
            start_lsn=self.start_lsn,
            stop_lsn=self.stop_lsn,
            segment_size=self.wal_segment_size,
            stop_time=self.stop_time,
        )


@dataclass(frozen=True)
class PhysicalBackup:
    """A base backup snapshot with its parsed metadata."""

    snapshot: Snapshot
    info: PhysicalBackupInfo


def physical_backups(snapshots: list[Snapshot]) -> tuple[list[PhysicalBackup], dict[str, str]]:
    """The base backups among ``snapshots``, and (snapshot id -> why) those with bad meta."""
    found, bad = [], {}
    for snap in snapshots:
        if snap.meta.get("source.type") != SOURCE_TYPE:
            continue
        try:
            found.append(PhysicalBackup(snap, PhysicalBackupInfo.from_meta(snap.meta)))
        except ValueError as exc:
            bad[snap.id] = str(exc)
    return found, bad
