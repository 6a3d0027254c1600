"""WAL retention as a table: what goes, what stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from drkit.repository.snapshot import Snapshot
from drkit.sources.postgres_physical_meta import PhysicalBackup, PhysicalBackupInfo
from drkit.sources.wal_archive import ArchivedFile
from drkit.sources.wal_expiry import plan_expiry
from drkit.sources.wal_names import parse_wal_name

SEG = 16 * 1024 * 1024
T = datetime(2026, 11, 24, tzinfo=UTC)
INFO = PhysicalBackupInfo(
    system_identifier=7,
    timeline=1,
    start_lsn=5 * SEG + 40,
    stop_lsn=5 * SEG + 900,
    checkpoint_lsn=5 * SEG + 40,
    start_time=T,
    stop_time=T,
    wal_segment_size=SEG,
    server_version="15",
    backup_history_file="000000010000000000000005.00000028.backup",
    stream="/base.tar",
)


def backup(start_segno: int, system_id: int = 7) -> PhysicalBackup:
    info = replace(INFO, start_lsn=start_segno * SEG + 40, system_identifier=system_id)
    snap = Snapshot(time=T, tree=b"", paths=[], hostname="h", username="u")
    return PhysicalBackup(snap, info)


def archived(name: str, system_id: int = 7) -> ArchivedFile:
    parsed = parse_wal_name(name)
    assert parsed is not None
    return ArchivedFile(system_id, name, parsed, 100)


FILES = [
    archived("000000010000000000000003"),
    archived("000000010000000000000004"),
    archived("000000010000000000000004.partial"),
    archived("000000010000000000000003.00000028.backup"),
    archived("000000010000000000000005"),
    archived("000000010000000000000005.00000028.backup"),
    archived("000000020000000000000006"),
    archived("00000002.history"),
    archived("000000010000000000000001", system_id=9),  # another cluster, no backup here
]


def names(files: tuple[ArchivedFile, ...]) -> set[str]:
    return {f.name for f in files}


def test_wal_before_the_oldest_backup_goes_and_the_rest_stays() -> None:
    plan = plan_expiry(FILES, [backup(5), backup(6)])
    assert names(plan.remove) == {
        "000000010000000000000003",
        "000000010000000000000004",
        "000000010000000000000004.partial",
        "000000010000000000000003.00000028.backup",
    }
    assert plan.keep_from == {7: "000000010000000000000005"}
    assert plan.kept == len(FILES) - 4


def test_timeline_history_and_clusters_without_backups_are_kept() -> None:
    plan = plan_expiry(FILES, [backup(7)])
    assert "00000002.history" not in names(plan.remove)
    assert all(f.system_id == 7 for f in plan.remove)


def test_no_backups_means_nothing_expires() -> None:
    assert plan_expiry(FILES, []).remove == ()
