"""A second primary made by hand: rejoining the old one first reports what it wrote after the fork.

West is promoted behind the agents' back; east (the old primary) goes on taking writes on
timeline 1. `drkit ha rejoin east` reads east's WAL from the fork (pg_waldump), names the
tables, and refuses; with --accept-divergence it rewinds east under west and those writes
are gone, as the report said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from drkit.ha.build import dcs_for
from tests.conftest import Runner
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import PG_BIN, PgPair, as_postgres, running_pair
from tests.fixtures.ha_scenario import inventory, settings_of
from tests.fixtures.haproxy import wait_until


@pytest.fixture
def rewindable_pair(pg_template: Path) -> Iterator[PgPair]:
    with running_pair(
        pg_template, extra_conf="full_page_writes = on\nwal_keep_size = 128MB\n"
    ) as p:
        yield p


def test_rejoin_reports_the_writes_after_the_fork_and_refuses_until_accepted(
    rewindable_pair: PgPair, etcd: EtcdCluster, drkit: Runner, tmp_path: Path
) -> None:
    pair = rewindable_pair
    east, west = pair.primary, pair.replica
    ha = inventory(pair, etcd.endpoints)
    config = tmp_path / "drkit.yaml"
    config.write_text(json.dumps({"version": 1, "ha": ha}))
    settings = settings_of(ha)
    assert settings.ha is not None

    east.query("create table kept(x int)")
    east.query("insert into kept values (1)")
    wait_until(
        lambda: west.query("select count(*) from kept")[0][0] == 1,
        30,
        "kept on west",
        ignoring=(psycopg.Error,),
    )
    as_postgres(PG_BIN / "pg_ctl", "-D", west.data_dir, "-w", "promote")  # by hand
    wait_until(lambda: not west.in_recovery(), 30, "west promoted", ignoring=(psycopg.Error,))
    west.query("insert into kept values (2)")  # west's own timeline 2
    # east still believes it is the primary and takes writes on timeline 1
    east.query("create table only_on_east(x int)")
    east.query("insert into only_on_east values (1), (2)")
    east.query("insert into kept values (42)")
    (east_end,) = east.query("select pg_current_wal_lsn()::text")[0]

    dcs = dcs_for(settings.ha)
    try:
        assert dcs.acquire_leader("west")
        refused = drkit("--config", str(config), "ha", "rejoin", "east")
        assert refused.returncode == 3, refused.stderr
        said = refused.stdout + refused.stderr
        assert "Traceback" not in said
        assert "east wrote after the fork: timeline 1, LSN" in said
        assert "west forked onto timeline 2" in said
        assert "postgres.only_on_east" in said and "postgres.kept" in said
        assert "(committed)" in said and "--accept-divergence" in said
        # nothing was discarded: east is untouched
        assert east.in_recovery() is False
        assert east.query("select count(*) from only_on_east")[0][0] == 2

        assert dcs.acquire_leader("west")  # again: the test holds the lease, not an agent
        done = drkit(
            "--config", str(config), "ha", "rejoin", "east", "--accept-divergence", "--json",
            "--by", "ann",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["how"] == "rewind"
        report = result["divergence"]
        assert report["diverged"] is True and report["old_timeline"] == 1
        assert report["new_timeline"] == 2
        assert _lsn(report["fork_lsn"]) < _lsn(report["end_lsn"])
        assert _lsn(report["end_lsn"]) >= _lsn(east_end)  # up to east's last write
        tables = {t for tx in report["transactions"] for t in tx["tables"]}
        assert {"postgres.only_on_east", "postgres.kept"} <= tables
        assert any(tx["outcome"] == "committed" for tx in report["transactions"])

        # rewound under west: the reported writes are gone, west's are there
        wait_until(east.in_recovery, 30, "east a replica", ignoring=(psycopg.Error,))
        wait_until(
            lambda: east.query("select array_agg(x order by x) from kept")[0][0] == [1, 2],
            30,
            "west's rows on east, east's own gone",
            ignoring=(psycopg.Error,),
        )
        assert east.query("select to_regclass('only_on_east')")[0][0] is None

        # what was discarded stays on record in the catalog, with who let it
        audit = drkit("audit", "--json")
        assert audit.returncode == 0, audit.stderr
        (kept,) = [e for e in json.loads(audit.stdout) if e["action"] == "ha.rejoin"]
        assert kept["actor"] == "ann" and kept["target"].endswith("/east")
        assert "postgres.only_on_east" in kept["detail"]
    finally:
        dcs.close()


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return int(high, 16) << 32 | int(low, 16)
