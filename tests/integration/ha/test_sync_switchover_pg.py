"""Synchronous mode, a planned switchover and a rejoin, on a real PostgreSQL pair and etcd.

The agents run as ``drkit agent`` builds them (threads); the operator commands
run as ``drkit ha ...`` child processes against the same etcd.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from drkit.catalog import Catalog
from drkit.ha.build import dcs_for
from drkit.ha.drivers.dcs.base import DCS
from drkit.settings.model import Settings
from tests.conftest import Runner
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import PgNode, PgPair, running_pair
from tests.fixtures.ha_scenario import inventory, running_agents, settings_of
from tests.fixtures.haproxy import wait_until


def _wait(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    wait_until(condition, timeout, what, ignoring=(psycopg.Error,))


def _config(tmp_path: Path, ha: dict[str, object]) -> tuple[Settings, str]:
    path = tmp_path / "drkit.yaml"
    path.write_text(json.dumps({"version": 1, "ha": ha}))  # JSON is YAML
    return settings_of(ha), str(path)


def _leads(dcs: DCS, site: str) -> bool:
    view = dcs.read()
    return view.leader is not None and view.leader.site == site and view.pause is None


def _streams_to(primary: PgNode, name: str, sync: bool = False) -> bool:
    rows = primary.query("select application_name, state, sync_state from pg_stat_replication")
    return any(r[0] == name and r[1] == "streaming" and (not sync or r[2] == "sync") for r in rows)


class Writes:
    """A client inserting numbered rows into the primary; remembers the acknowledged ones."""

    def __init__(self, node: PgNode) -> None:
        self.node, self.acked, self.stop = node, [], threading.Event()
        node.query("create table if not exists acked(seq bigint primary key)")
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        seq = 0
        try:
            with self.node.connect() as conn:
                while not self.stop.is_set():
                    seq += 1
                    conn.execute("insert into acked values (%s)", (seq,))
                    self.acked.append(seq)
        except psycopg.Error:
            return  # the primary died under us: what was acknowledged is in self.acked

    def __enter__(self) -> Writes:
        self.thread.start()
        _wait(lambda: len(self.acked) > 20, "the first acknowledged writes")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _sync_key(dcs: DCS) -> tuple[object, object] | None:
    sync = dcs.read().sync
    return None if sync is None else (sync.get("leader"), sync.get("sync_standby"))


def _seqs(node: PgNode) -> set[int]:
    return {int(r[0]) for r in node.query("select seq from acked")}


@pytest.fixture
def sync_pair(pg_template: Path) -> Iterator[PgPair]:
    """A pair whose commits wait for the synchronous standby once one is named.

    full_page_writes on and WAL kept: pg_rewind needs both (without, rejoin falls back to a
    fresh base backup, "reclone").
    """
    conf = "synchronous_commit = on\nfull_page_writes = on\nwal_keep_size = 128MB\n"
    with running_pair(pg_template, extra_conf=conf) as pair:
        yield pair


def test_synchronous_mode_loses_no_acknowledged_write_then_rejoin_rewinds(
    sync_pair: PgPair, etcd: EtcdCluster, catalog: Catalog, drkit: Runner, tmp_path: Path
) -> None:
    pair = sync_pair
    ha = inventory(pair, etcd.endpoints, synchronous_mode=True)
    settings, config = _config(tmp_path, ha)
    assert settings.ha is not None
    dcs = dcs_for(settings.ha)
    try:
        with running_agents(settings, lambda: catalog):
            _wait(lambda: _leads(dcs, "east"), "east leading")
            _wait(lambda: _streams_to(pair.primary, "west", sync=True), "west as sync standby")
            (names,) = pair.primary.query("show synchronous_standby_names")[0]
            assert names == 'FIRST 1 ("west")'

            # a commit really waits for west: its WAL receiver stopped, the commit hangs
            (receiver,) = pair.replica.query("select pid from pg_stat_wal_receiver")[0]
            os.kill(receiver, signal.SIGSTOP)
            try:
                hung = threading.Thread(
                    target=pair.primary.query, args=("create table waits_for_west(x int)",)
                )
                hung.start()
                _wait(
                    lambda: (
                        pair.primary.query(
                            "select count(*) from pg_stat_activity where wait_event = 'SyncRep'"
                        )[0][0]
                        == 1
                    ),
                    "a commit waiting for the synchronous standby",
                )
                assert hung.is_alive()
            finally:
                os.kill(receiver, signal.SIGCONT)
            hung.join(30)
            assert not hung.is_alive()

            # etcd's sync key names west as the synchronous standby (settled after the stall)
            _wait(lambda: _sync_key(dcs) == ("east", "west"), "the sync key naming west")
            with Writes(pair.primary) as writes:
                pair.primary.stop("immediate")  # the primary dies while the client writes
                writes.thread.join(30)
            assert len(writes.acked) > 20
            _wait(lambda: _leads(dcs, "west") and bool(dcs.read().history), "west promoted")
            assert pair.replica.in_recovery() is False
            assert set(writes.acked) <= _seqs(pair.replica)  # RPO 0: every acknowledged row
            pair.replica.query("insert into acked values (-1)")  # written on the new timeline

            # the client's last commit may be on east alone (written, never acknowledged):
            # the rejoin reports it and, accepted, discards it
            rejoined = drkit(
                "--config", config, "ha", "rejoin", "east", "--accept-divergence", "--by", "ann"
            )
            assert rejoined.returncode == 0, rejoined.stderr
            assert "east rejoined as a replica (rewind)" in rejoined.stdout, rejoined.stderr
            assert pair.primary.in_recovery() is True
            _wait(lambda: _streams_to(pair.replica, "east"), "east streaming from west")
            _wait(lambda: -1 in _seqs(pair.primary), "the new timeline's row on east")
    finally:
        dcs.close()


def test_the_sync_key_in_etcd_lets_restarted_agents_promote_without_losing_a_write(
    sync_pair: PgPair, etcd: EtcdCluster, catalog: Catalog, drkit: Runner, tmp_path: Path
) -> None:
    """The leader's agent dies, then its database; every agent restarts with an empty memory.

    Only etcd's sync key (no lease) still says which standby holds every acknowledged
    write: the new agents read it, and west, which it names, takes over with all of them.
    """
    pair = sync_pair
    settings, config = _config(tmp_path, inventory(pair, etcd.endpoints, synchronous_mode=True))
    assert settings.ha is not None
    dcs = dcs_for(settings.ha)
    try:
        with running_agents(settings, lambda: catalog):
            _wait(lambda: _leads(dcs, "east"), "east leading")
            _wait(lambda: _sync_key(dcs) == ("east", "west"), "the sync key naming west")
            (names,) = pair.primary.query("show synchronous_standby_names")[0]
            assert names == 'FIRST 1 ("west")'
            writes = Writes(pair.primary)
            writes.__enter__()
        # every agent is gone (their leases revoked); east keeps taking writes, then dies
        _wait(lambda: dcs.read().leader is None, "no leader")
        more = len(writes.acked) + 50
        _wait(lambda: len(writes.acked) > more, "writes acknowledged with no agent running")
        pair.primary.stop("immediate")
        writes.__exit__()
        assert _sync_key(dcs) == ("east", "west")  # outlived the leases
        shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
        assert shown["sync"]["sync_standby"] == "west"
        assert (
            "synchronous standby: west (named by east)"
            in drkit("--config", config, "ha", "status").stdout
        )
        with running_agents(settings, lambda: catalog) as agents:
            assert all(a.memory.leader_site is None for a in agents.values())
            _wait(lambda: _leads(dcs, "west") and bool(dcs.read().history), "west promoted")
        assert pair.replica.in_recovery() is False
        assert set(writes.acked) <= _seqs(pair.replica)  # RPO 0 across the agents' restart
    finally:
        dcs.close()


def test_switchover_to_west_and_back_loses_nothing(
    pg_pair: PgPair, etcd: EtcdCluster, catalog: Catalog, drkit: Runner, tmp_path: Path
) -> None:
    pair = pg_pair
    settings, config = _config(tmp_path, inventory(pair, etcd.endpoints))
    assert settings.ha is not None
    dcs = dcs_for(settings.ha)
    try:
        with running_agents(settings, lambda: catalog):
            _wait(lambda: _leads(dcs, "east") and "west" in dcs.read().members, "east leading")
            _wait(lambda: dcs.read().members["west"].get("healthy"), "west healthy")
            writes = Writes(pair.primary)
            with writes:
                done = drkit("--config", config, "ha", "switchover", "--to", "west", "--by", "ann")
            assert done.returncode == 0, done.stderr
            assert "switched over: west is the primary" in done.stdout
            assert pair.replica.in_recovery() is False
            assert pair.primary.in_recovery() is True  # demoted first, then west promoted
            assert set(writes.acked) <= _seqs(pair.replica)  # no acknowledged write lost
            (record,) = dcs.read().history
            assert (record["from"], record["to"], record["kind"]) == ("east", "west", "switchover")
            _wait(lambda: _streams_to(pair.replica, "east"), "east following west")
            pair.replica.query("insert into acked values (-1)")
            _wait(lambda: -1 in _seqs(pair.primary), "west's write replayed on east")
            _wait(
                lambda: (
                    dcs.read().members["east"].get("role") == "replica"
                    and dcs.read().members["east"].get("healthy")
                ),
                "east published as a healthy replica",
            )

            back = drkit("--config", config, "ha", "switchover", "--to", "east")
            assert back.returncode == 0, back.stderr
            assert pair.primary.in_recovery() is False and pair.replica.in_recovery() is True
            assert {-1, *writes.acked} <= _seqs(pair.primary)
            _wait(lambda: _streams_to(pair.primary, "west"), "west following east again")
            again = drkit("--config", config, "ha", "rejoin", "west")
            assert again.returncode == 0, again.stderr
            assert "west rejoined as a replica (replica already)" in again.stdout
    finally:
        dcs.close()
