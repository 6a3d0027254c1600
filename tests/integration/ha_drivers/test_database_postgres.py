"""The PostgreSQL driver against a real primary + streaming replica (tests/fixtures/ha.py)."""

from __future__ import annotations

import psycopg
import pytest

from drkit.ha.drivers.database.postgres import PostgresDatabase, PostgresSettings
from drkit.ha.drivers.database.registry import DATABASES
from drkit.ha.drivers.errors import DatabaseError
from tests.fixtures.ha import PgNode, PgPair
from tests.fixtures.haproxy import wait_until


def driver(node: PgNode) -> PostgresDatabase:
    settings = DATABASES.parse(
        {
            "type": "postgres",
            "name": node.name,
            "host": node.host,
            "port": node.port,
            "data_dir": str(node.data_dir),
            "log_file": str(node.log),
        }
    )
    db = DATABASES.build(settings)
    assert isinstance(db, PostgresDatabase) and isinstance(settings, PostgresSettings)
    return db


def conninfo(node: PgNode) -> str:
    return f"host={node.host} port={node.port} user=postgres dbname=postgres"


def test_probe_primary_and_replica(pg_pair: PgPair) -> None:
    # a replica just started streams before it has replayed: wait for it to catch up
    wait_until(
        lambda: (
            driver(pg_pair.replica).probe().replay_lsn
            == driver(pg_pair.primary).probe().current_lsn
        ),
        what="the replica replaying up to the primary",
    )
    primary, replica = driver(pg_pair.primary).probe(), driver(pg_pair.replica).probe()
    assert primary.is_primary and primary.timeline == 1 and primary.current_lsn
    assert [r.state for r in primary.replicas] == ["streaming"]
    assert primary.replicas[0].lag_bytes == 0
    assert replica.reachable and replica.in_recovery and replica.streaming
    assert replica.timeline == 1 and replica.lag_bytes == 0
    assert replica.replay_lsn == primary.current_lsn


def test_lag_shows_when_replay_is_paused(pg_pair: PgPair) -> None:
    pg_pair.primary.query("create table first(x int)")  # a replayed commit dates the lag
    pg_pair.primary.query("select pg_switch_wal()")  # the fixture runs synchronous_commit=off
    wait_until(
        lambda: pg_pair.replica.query("select pg_last_xact_replay_timestamp()")[0][0] is not None,
        what="a replayed commit",
    )
    pg_pair.replica.query("select pg_wal_replay_pause()")
    pg_pair.primary.query("create table big as select generate_series(1, 50000) as n")
    pg_pair.primary.query("select pg_switch_wal()")
    replica = driver(pg_pair.replica)
    wait_until(lambda: (replica.probe().lag_bytes or 0) > 100_000, what="lag on the replica")
    state = replica.probe()
    assert state.lag_s is not None and state.lag_s > 0
    primary = driver(pg_pair.primary).probe()
    assert (primary.replicas[0].lag_bytes or 0) > 100_000
    pg_pair.replica.query("select pg_wal_replay_resume()")
    pg_pair.wait_replicated()
    assert replica.probe().lag_bytes == 0


def test_down_server_probes_unreachable(pg_pair: PgPair) -> None:
    db = driver(pg_pair.replica)
    db.stop()
    state = db.probe()
    assert not state.reachable and state.error
    db.stop()  # idempotent
    with pytest.raises(DatabaseError, match="cannot promote"):
        db.promote(5)
    db.start()
    db.start()
    assert db.probe().streaming


def test_promote_makes_a_writable_primary(pg_pair: PgPair) -> None:
    db = driver(pg_pair.replica)
    state = db.promote(30)
    assert state.is_primary and state.timeline == 2
    pg_pair.replica.query("create table after_promote(x int)")
    assert db.promote(30).is_primary  # idempotent


def test_demote_fences_writes(pg_pair: PgPair) -> None:
    db = driver(pg_pair.primary)
    db.demote()
    state = db.probe()
    assert state.reachable and state.in_recovery is True
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        pg_pair.primary.query("create table t(x int)")


def test_synchronous_standbys(pg_pair: PgPair) -> None:
    db = driver(pg_pair.primary)
    name = db.probe().replicas[0].name
    db.set_synchronous_standbys([name])
    wait_until(lambda: db.probe().replicas[0].sync_state == "sync", what="sync standby")
    assert db.probe().synchronous_standby_names == f'FIRST 1 ("{name}")'
    db.set_synchronous_standbys([])
    wait_until(lambda: db.probe().replicas[0].sync_state == "async", what="async again")


def test_rewind_rejoins_a_diverged_old_primary(pg_pair: PgPair) -> None:
    old, new = driver(pg_pair.primary), driver(pg_pair.replica)
    pg_pair.primary.query("alter system set wal_log_hints = on")  # pg_rewind needs these
    for node in (pg_pair.primary, pg_pair.replica):
        node.query("alter system set full_page_writes = on")  # the fixture turns it off
        node.query("select pg_reload_conf()")
    old.stop()
    old.start()
    pg_pair.primary.query("create table shared(x int)")
    pg_pair.wait_replicated()
    new.promote(30)
    pg_pair.replica.query("insert into shared values (2)")
    pg_pair.primary.query("insert into shared values (1)")  # split brain: diverged
    old.rewind_from(conninfo(pg_pair.replica))
    auto = pg_pair.primary.data_dir / "postgresql.auto.conf"
    log = pg_pair.primary.log
    wait_until(
        lambda: bool(old.probe().streaming),
        what="rewound node streaming",
        detail=lambda: f"{auto.read_text()}\n{log.read_text()[-2500:]}",
    )
    state = old.probe()
    assert state.in_recovery and state.timeline == 2
    pg_pair.replica.query("insert into shared values (3)")
    wait_until(
        lambda: pg_pair.primary.query("select array_agg(x order by x) from shared")[0][0] == [2, 3],
        what="the rejoined node to follow the new primary",
    )


def test_rewind_failure_is_a_database_error(pg_pair: PgPair) -> None:
    db = driver(pg_pair.primary)
    with pytest.raises(DatabaseError, match="rewind"):
        db.rewind_from("host=127.0.0.1 port=1 user=postgres")
    assert not db.probe().reachable  # left stopped (fenced), not half-configured


def test_reclone_rejoins_from_a_fresh_base_backup(pg_pair: PgPair) -> None:
    old, new = driver(pg_pair.primary), driver(pg_pair.replica)
    new.promote(30)
    pg_pair.replica.query("create table fresh(x int)")
    pg_pair.replica.query("insert into fresh values (7)")
    old.reclone_from(conninfo(pg_pair.replica))
    wait_until(lambda: bool(old.probe().streaming), what="recloned node streaming")
    assert pg_pair.primary.query("select x from fresh") == [(7,)]
    assert pg_pair.primary.address.startswith("127.0.0.2")  # kept its own configuration
    assert not list(pg_pair.root.glob("primary.drkit-old-*"))
