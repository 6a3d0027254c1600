# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""A damaged or unreadable WAL object must stop recovery, never end it early.

Both ways the data loss was found: one flipped byte in a ``wal/`` object, and a WAL
object written by root with mode 0600 that recovery, running as ``postgres``, cannot
read. ``pg restore`` refuses up front naming the segment; and a data directory
restored before the damage (recovery settings already written) must not promote:
``wal-fetch`` fails fatally, the server stops, and the server log says why.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from drkit.sources.wal_format import HEADER_SIZE
from tests.fixtures.pgcluster import (
    PG_BIN,
    PgCluster,
    PgLab,
    RowWriter,
    chown_postgres,
    free_port,
    pglab,  # noqa: F401
    server_env,
)


def history(lab: PgLab) -> tuple[PgCluster, int]:
    """Rows written through a base backup and three more segment switches."""
    primary = lab.cluster()
    writer = RowWriter(primary)
    writer.start()
    time.sleep(0.3)
    done = lab.drkit("pg", "basebackup", "--dsn", primary.dsn)
    assert done.returncode == 0, done.stderr
    for _ in range(3):
        time.sleep(0.3)
        primary.switch_wal()
    total = writer.stop()
    primary.wait_archived(primary.switch_wal())
    return primary, total


def segment_objects(lab: PgLab) -> list[Path]:
    return sorted(p for p in (lab.repo / "wal").iterdir() if len(p.name.split("-")[1]) == 24)


def victim(lab: PgLab) -> Path:
    """A segment after the base backup's end, with rows committed in it and after it."""
    return segment_objects(lab)[-2]


def flip_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[HEADER_SIZE + 40] ^= 0x01
    path.write_bytes(bytes(raw))


def make_root_only(path: Path) -> None:
    os.chown(path, 0, 0)
    path.chmod(0o600)


def start_and_wait_for_fate(lab: PgLab, datadir: Path, name: str) -> tuple[str, bool]:
    """Start the restored server without waiting; return its log and whether it promoted."""
    sock = lab.base / f"{name}-sock"
    sock.mkdir()
    chown_postgres(sock)
    log = lab.base / f"{name}.log"
    cluster = PgCluster(datadir, free_port(), sock, log, server_env(lab.base))
    lab.clusters.append(cluster)  # stopped at teardown should it still run
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(datadir),
         "-l", str(log), "-o", f"-p {cluster.port} -k {sock}", "-W", "start"],
        env=cluster.env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "database system is ready to accept connections" in text:
            return text, True
        if "due to startup process failure" in text:
            return text, False
        time.sleep(0.2)
    pytest.fail(f"the restored server neither promoted nor stopped:\n{log.read_text()}")


def restored_before_damage(lab: PgLab, name: str) -> Path:
    datadir = lab.base / name
    done = lab.drkit("pg", "restore", "--to", str(datadir), "--latest")
    assert done.returncode == 0, done.stderr
    return datadir


def test_a_flipped_byte_is_refused_up_front_and_stops_recovery(pglab: PgLab) -> None:
    history(pglab)
    datadir = restored_before_damage(pglab, "early")
    bad = victim(pglab)
    flip_byte(bad)
    segment = bad.name.split("-")[1]

    refused = pglab.base / "refused"
    done = pglab.drkit("pg", "restore", "--to", str(refused), "--latest")
    assert done.returncode == 13, done.stderr
    assert segment in done.stderr and "cannot be restored" in done.stderr
    assert not refused.exists()  # nothing written

    log, promoted = start_and_wait_for_fate(pglab, datadir, "early")
    assert not promoted, log
    assert "wal-damaged" in log and segment in log  # wal-fetch's reason, in the server log
    assert "child process exited with exit code 200" in log


def test_an_object_recovery_cannot_read_is_refused_and_stops_recovery(pglab: PgLab) -> None:
    history(pglab)
    datadir = restored_before_damage(pglab, "early")
    bad = victim(pglab)
    make_root_only(bad)  # as `drkit copy` run by root used to write it
    segment = bad.name.split("-")[1]

    refused = pglab.base / "refused"
    done = pglab.drkit("pg", "restore", "--to", str(refused), "--latest")
    assert done.returncode == 15, done.stderr
    assert segment in done.stderr and "cannot read" in done.stderr
    assert not (refused / "postgresql.auto.conf").exists()
    assert not (refused / "recovery.signal").exists()

    log, promoted = start_and_wait_for_fate(pglab, datadir, "early")
    assert not promoted, log
    assert "Permission denied" in log and segment in log
    assert "child process exited with exit code 200" in log


def test_a_missing_segment_still_ends_recovery(pglab: PgLab) -> None:
    """The end of the archive is PostgreSQL's cue to finish: exit 1, not fatal."""
    _, total = history(pglab)
    datadir = restored_before_damage(pglab, "whole")
    log, promoted = start_and_wait_for_fate(pglab, datadir, "whole")
    assert promoted, log
    restored = pglab.clusters[-1]
    assert restored.one("select count(*) from pitr") == total
