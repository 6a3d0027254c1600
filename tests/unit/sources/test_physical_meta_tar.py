"""Base backup labels and metadata, and the tar scanner / unpacker."""

from __future__ import annotations

import io
import os
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drkit.repository.snapshot import Snapshot
from drkit.sources.postgres_physical_meta import (
    PhysicalBackupInfo,
    parse_label,
    physical_backups,
)
from drkit.sources.postgres_physical_tar import TarScanner, unpack

LABEL = """START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
CHECKPOINT LOCATION: 0/2000060
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-11-24 08:05:25 UTC
LABEL: pg_basebackup base backup
START TIMELINE: 1
"""
HISTORY = (
    LABEL.replace(
        "CHECKPOINT", "STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\nCHECKPOINT"
    )
    + "STOP TIME: 2026-11-24 08:05:25 UTC\nSTOP TIMELINE: 1\n"
)


def test_parse_backup_label_and_history_file() -> None:
    label = parse_label(LABEL)
    assert (label.start_lsn, label.checkpoint_lsn, label.start_timeline) == (
        0x2000028,
        0x2000060,
        1,
    )
    assert label.stop_lsn is None and label.label == "pg_basebackup base backup"
    history = parse_label(HISTORY)
    assert (history.stop_lsn, history.stop_timeline) == (0x2000100, 1)
    with pytest.raises(ValueError, match="START WAL LOCATION"):
        parse_label("CHECKPOINT LOCATION: 0/1\n")


def info() -> PhysicalBackupInfo:
    return PhysicalBackupInfo(
        system_identifier=7711646098892180757,
        timeline=2,
        start_lsn=0x2000028,
        stop_lsn=0x2000100,
        checkpoint_lsn=0x2000060,
        start_time=datetime(2026, 11, 24, 8, 5, 25, 123456, tzinfo=UTC),
        stop_time=datetime(2026, 11, 24, 8, 5, 26, tzinfo=UTC),
        wal_segment_size=16 * 1024 * 1024,
        server_version="15.8",
        backup_history_file="000000020000000000000002.00000028.backup",
        stream="/postgres-physical/127.0.0.1:5432/base.tar",
    )


def test_meta_round_trip_and_bad_meta() -> None:
    meta = info().to_meta()
    assert meta["source.type"] == "postgres-physical"
    assert meta["postgres-physical.start_lsn"] == "0/2000028"
    assert PhysicalBackupInfo.from_meta(meta) == info()
    snap = Snapshot(time=info().stop_time, tree=b"", paths=["/p"], hostname="h", username="u")
    good = Snapshot(**{**snap.__dict__, "id": "a" * 64, "meta": meta})
    bad = Snapshot(
        **{**snap.__dict__, "id": "b" * 64, "meta": {**meta, "postgres-physical.stop_lsn": "x"}}
    )
    partial = dict(meta)
    del partial["postgres-physical.timeline"]
    worse = Snapshot(**{**snap.__dict__, "id": "c" * 64, "meta": partial})
    found, broken = physical_backups([snap, good, bad, worse])
    assert [b.snapshot.id for b in found] == ["a" * 64]
    assert set(broken) == {"b" * 64, "c" * 64}
    assert "postgres-physical.timeline" in broken["c" * 64]


def make_tar(members: dict[str, bytes], dirs: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in dirs:
            entry = tarfile.TarInfo(name)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o700
            tar.addfile(entry)
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), 0o600
            tar.addfile(entry, io.BytesIO(data))
    return buf.getvalue()


LONG = "base/16384/" + "x" * 120  # needs a GNU long-name member
MEMBERS = {
    "backup_label": LABEL.encode(),
    "tablespace_map": b"",
    LONG: os.urandom(3000),
    "global/pg_control": os.urandom(8192),
    "PG_VERSION": b"15\n",
}


@pytest.mark.parametrize("block", [1, 7, 511, 512, 513, 4096, 1 << 20])
def test_scanner_sees_members_in_any_block_size(block: int) -> None:
    data = make_tar(MEMBERS, ["pg_wal", "base", "base/16384", "global"])
    scanner = TarScanner({"backup_label", "tablespace_map", LONG, "PG_VERSION"})
    out = b"".join(scanner.watch(data[i : i + block] for i in range(0, len(data), block)))
    assert out == data
    assert scanner.ended
    assert scanner.members == 4 + len(MEMBERS)
    assert scanner.kept == {
        "backup_label": MEMBERS["backup_label"],
        "tablespace_map": b"",
        LONG: MEMBERS[LONG],
        "PG_VERSION": b"15\n",
    }


def test_truncated_stream_has_not_ended() -> None:
    data = make_tar(MEMBERS, [])
    scanner = TarScanner(set())
    scanner.feed(data[: len(data) // 2])
    assert not scanner.ended


def test_unpack_streams_into_a_directory(tmp_path: Path) -> None:
    data = make_tar(MEMBERS, ["pg_wal", "base", "base/16384", "global"])
    blocks = (data[i : i + 1000] for i in range(0, len(data), 1000))
    assert unpack(blocks, tmp_path) == 4 + len(MEMBERS)
    assert (tmp_path / "pg_wal").is_dir()
    for name, content in MEMBERS.items():
        assert (tmp_path / name).read_bytes() == content
    assert (tmp_path / "PG_VERSION").stat().st_mode & 0o777 == 0o600


def test_unpack_refuses_paths_outside_the_target(tmp_path: Path) -> None:
    data = make_tar({"../escape": b"x"}, [])
    with pytest.raises(tarfile.TarError):
        unpack([data], tmp_path / "t")
    assert not (tmp_path / "escape").exists()


def test_members_with_made_up_owners_take_the_servers(tmp_path: Path) -> None:
    """pg_basebackup injects backup_manifest with uid 2048, gid 1024, mode 0600."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, uid, gid in [("PG_VERSION", 4321, 4322), ("backup_manifest", 2048, 1024)]:
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode, entry.uid, entry.gid = 3, 0o600, uid, gid
            tar.addfile(entry, io.BytesIO(b"15\n"))
    unpack([buf.getvalue()], tmp_path)
    st = (tmp_path / "backup_manifest").stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)  # the tests run as root
