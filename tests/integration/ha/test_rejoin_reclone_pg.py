"""Rejoin by re-clone on real PostgreSQL: pg_rewind cannot (full_page_writes off), so a fresh
base backup of the new primary replaces the old primary's data directory."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from drkit.ha.build import dcs_for
from tests.conftest import Runner
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import PG_BIN, PgPair, as_postgres
from tests.fixtures.ha_scenario import inventory, settings_of
from tests.fixtures.haproxy import wait_until


def test_rejoin_reclones_when_rewind_cannot(
    pg_pair: PgPair, etcd: EtcdCluster, drkit: Runner, tmp_path: Path
) -> None:
    pair = pg_pair
    east, west = pair.primary, pair.replica
    assert east.query("show full_page_writes")[0][0] == "off"  # pg_rewind refuses this
    ha = inventory(pair, etcd.endpoints)
    config = tmp_path / "drkit.yaml"
    config.write_text(json.dumps({"version": 1, "ha": ha}))
    settings = settings_of(ha)
    assert settings.ha is not None

    east.query("create table rows(x int)")
    east.query("insert into rows values (1)")
    wait_until(
        lambda: west.query("select count(*) from rows")[0][0] == 1,
        30,
        "the row on west",
        ignoring=(psycopg.Error,),
    )
    east.stop("fast")  # the old primary goes down with nothing past what west has
    as_postgres(PG_BIN / "pg_ctl", "-D", west.data_dir, "-w", "promote")
    wait_until(lambda: not west.in_recovery(), 30, "west promoted", ignoring=(psycopg.Error,))
    west.query("insert into rows values (2)")
    marker = east.data_dir / "only-in-the-old-directory"
    marker.write_text("x")

    dcs = dcs_for(settings.ha)
    try:
        assert dcs.acquire_leader("west")
        done = drkit("--config", str(config), "ha", "rejoin", "east", "--json")
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["how"] == "reclone", result
        assert result["divergence"]["diverged"] is False
        assert not marker.exists()  # a new data directory, copied from west
        assert not list(east.data_dir.parent.glob(f"{east.data_dir.name}.drkit-old-*"))
        wait_until(east.in_recovery, 30, "east a replica", ignoring=(psycopg.Error,))
        assert east.port == ha["sites"]["east"]["database"]["port"]  # its own config kept
        wait_until(
            lambda: east.query("select array_agg(x order by x) from rows")[0][0] == [1, 2],
            30,
            "west's rows on east",
            ignoring=(psycopg.Error,),
        )
        rows = west.query("select application_name, state from pg_stat_replication")
        assert ("east", "streaming") in rows
    finally:
        dcs.close()
