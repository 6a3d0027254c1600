"""drkit pg basebackup against real PostgreSQL 15 clusters: metadata, restore, faults."""

from __future__ import annotations

import json
import time

from tests.fixtures.pgcluster import PgLab, chown_postgres


def snapshots(lab: PgLab) -> list[dict[str, object]]:
    done = lab.drkit("snapshots", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_base_backup_records_its_wal_range_and_restores(pglab: PgLab) -> None:
    primary = pglab.cluster()
    primary.sql("create table t (id int primary key, note text)")
    primary.sql("insert into t select g, repeat('x', 200) from generate_series(1, 5000) g")
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--json")
    assert done.returncode == 0, done.stderr + primary.log_tail()
    meta = json.loads(done.stdout)
    sysid = primary.one("select system_identifier from pg_control_system()")
    assert meta["system_identifier"] == str(sysid)
    assert meta["timeline"] == "1" and meta["wal_segment_size"] == str(16 * 1024 * 1024)
    start, stop = (primary.one("select %s::pg_lsn", meta[k]) for k in ("start_lsn", "stop_lsn"))
    assert start <= stop <= primary.one("select pg_current_wal_lsn()")
    assert meta["backup_history_file"].endswith(".backup")
    assert meta["start_time"] < meta["stop_time"]

    listed = json.loads(pglab.drkit("pg", "backups", "--json").stdout)
    assert [b["id"] for b in listed] == [meta["snapshot"]]
    files = pglab.drkit("ls", meta["snapshot"][:8], "-R").stdout.split()
    assert f"/postgres-physical/127.0.0.1:{primary.port}/base.tar" in files

    primary.sql("insert into t values (5001, 'after the backup')")
    primary.wait_archived(primary.switch_wal())
    target = pglab.base / "restored"
    done = pglab.drkit("pg", "restore", "--to", str(target), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["snapshot"] == meta["snapshot"]
    restored = pglab.restored(target, "restored")
    restored.wait_promoted()
    assert restored.one("select count(*) from t") == 5001
    assert restored.one("select note from t where id = 5001") == "after the backup"
    assert restored.one("show archive_mode") == "off"  # a copy never archives into the original


def test_server_down_saves_nothing(pglab: PgLab) -> None:
    primary = pglab.cluster()
    primary.stop()
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn)
    assert done.returncode == 20, done.stderr
    assert "cannot connect" in done.stderr
    assert snapshots(pglab) == []


def test_server_without_archiving_is_refused(pglab: PgLab) -> None:
    primary = pglab.cluster(archive_command="")
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn)
    assert done.returncode == 1, done.stderr
    assert "does not archive WAL" in done.stderr and "hint:" in done.stderr
    assert snapshots(pglab) == []


def test_failing_archive_command_stops_the_backup(pglab: PgLab) -> None:
    primary = pglab.cluster(archive_command="false")
    started = time.monotonic()
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--archive-timeout", "2")
    assert done.returncode == 1, done.stderr
    assert "waited more than 2 s for the backup's WAL to be archived" in done.stderr
    assert time.monotonic() - started < 120  # ended by drkit, not by the server
    assert snapshots(pglab) == []
    assert primary.one("select count(*) from pg_stat_progress_basebackup") == 0


def test_wal_archived_into_another_repository_is_refused(pglab: PgLab) -> None:
    other = pglab.base / "other-repo"
    pglab.init_repo(str(other))
    chown_postgres(other)
    primary = pglab.cluster(archive_command=pglab.archive_command(str(other)))
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--archive-timeout", "5")
    assert done.returncode == 1, done.stderr
    assert "did not reach the WAL archive" in done.stderr
    assert snapshots(pglab) == []


def test_a_dsn_without_dbname_works_for_a_replication_user(pglab: PgLab) -> None:
    """The documented `host=db1 user=replicator`: libpq alone would look for a database
    named `replicator`."""
    primary = pglab.cluster()
    primary.sql("create role replicator login replication")
    primary.sql("grant pg_read_all_settings to replicator")
    dsn = f"host=127.0.0.1 port={primary.port} user=replicator"
    done = pglab.drkit("pg", "basebackup", "--dsn", dsn, "--json")
    assert done.returncode == 0, done.stderr
    assert len(snapshots(pglab)) == 1
