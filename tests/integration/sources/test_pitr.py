"""Point-in-time recovery end to end: rows written all along, a base backup taken while
they are written, WAL archived, then restores to a time, to an LSN and to the end; each
restored server must hold exactly the rows committed before its target."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.fixtures.pgcluster import PgCluster, PgLab, RowWriter, server_now


@dataclass
class History:
    primary: PgCluster
    backup: str  # snapshot id
    mark_time: datetime  # exactly ``rows_at_mark`` rows were committed at this instant
    mark_lsn: str  # ... and before this WAL position
    rows_at_mark: int
    rows_total: int


def write_through_a_backup(lab: PgLab) -> History:
    """Rows all along; a base backup in the middle; a mark later; every segment archived."""
    primary = lab.cluster()
    writer = RowWriter(primary)
    writer.start()
    time.sleep(0.3)
    done = lab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--json")
    assert done.returncode == 0, done.stderr
    assert writer.written > 0
    time.sleep(0.3)
    primary.switch_wal()
    time.sleep(0.3)
    with writer.paused() as rows:
        mark_time = server_now(primary)
        mark_lsn = str(primary.one("select pg_current_wal_insert_lsn()"))
        time.sleep(0.02)  # the next commit is stamped strictly after the mark
    time.sleep(0.3)
    primary.switch_wal()
    time.sleep(0.3)
    total = writer.stop()
    assert rows < total
    primary.wait_archived(primary.switch_wal())
    return History(primary, json.loads(done.stdout)["snapshot"], mark_time, mark_lsn, rows, total)


def restore_and_count(lab: PgLab, name: str, *target: str) -> tuple[list[int], PgCluster]:
    datadir = lab.base / name
    done = lab.drkit("pg", "restore", "--to", str(datadir), *target, "--json")
    assert done.returncode == 0, done.stderr
    restored = lab.restored(datadir, name)
    restored.wait_promoted()
    ids = [row[0] for row in restored.sql("select id from pitr order by id")]
    return ids, restored


def test_restore_to_a_time(pglab: PgLab) -> None:
    h = write_through_a_backup(pglab)
    ids, restored = restore_and_count(pglab, "at-time", "--target-time", h.mark_time.isoformat())
    assert ids == list(range(1, h.rows_at_mark + 1))
    assert restored.one("select timeline_id from pg_control_checkpoint()") == 2  # promoted


def test_restore_to_an_lsn(pglab: PgLab) -> None:
    h = write_through_a_backup(pglab)
    ids, _ = restore_and_count(pglab, "at-lsn", "--target-lsn", h.mark_lsn)
    assert ids == list(range(1, h.rows_at_mark + 1))


def test_restore_latest(pglab: PgLab) -> None:
    h = write_through_a_backup(pglab)
    ids, _ = restore_and_count(pglab, "latest", "--latest")
    assert ids == list(range(1, h.rows_total + 1))


def test_targets_that_cannot_be_reached(pglab: PgLab) -> None:
    h = write_through_a_backup(pglab)
    datadir = pglab.base / "never"
    before = (h.mark_time - timedelta(hours=1)).isoformat()
    done = pglab.drkit("pg", "restore", "--to", str(datadir), "--target-time", before)
    assert done.returncode == 26, done.stderr
    assert "no base backup is consistent before" in done.stderr
    after = (datetime.now().astimezone() + timedelta(hours=1)).isoformat()
    done = pglab.drkit("pg", "restore", "--to", str(datadir), "--target-time", after)
    assert done.returncode == 25, done.stderr
    assert "the last transaction recorded in the archived WAL ended at" in done.stderr
    assert not datadir.exists()  # refused before anything was written

    datadir.mkdir()
    (datadir / "keep.txt").write_text("precious")
    done = pglab.drkit("pg", "restore", "--to", str(datadir))
    assert done.returncode == 27, done.stderr
    assert (datadir / "keep.txt").read_text() == "precious"
    done = pglab.drkit("pg", "restore", "--to", str(datadir), "--force", "--json")
    assert done.returncode == 0, done.stderr
    assert not (datadir / "keep.txt").exists() and (datadir / "recovery.signal").exists()
