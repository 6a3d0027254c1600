"""A first measurement, not a test: seconds from the primary's PostgreSQL dying to the
first acknowledged write on the new primary, with drkit's default timings.

    .venv/bin/pytest bench/ha/test_measure_kill.py -s -p no:cacheprovider

Not the full method of the Patroni anchor (no write client through HAProxy, no
phase spreading, no Patroni in the same run): the injection phase is random
within the loop, and the write goes straight to the new primary's address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import KnotServer, PgPair
from tests.fixtures.ha_scenario import inventory, settings_of
from tests.fixtures.haproxy import HaproxyServer

from drkit.catalog import Catalog
from drkit.catalog.runs import get_run
from drkit.ha.agent.runtime import build_agent
from drkit.ha.build import dcs_for
from drkit.settings.model import Settings


def _settings(pair: PgPair, etcd: EtcdCluster, dns: KnotServer, lb: HaproxyServer) -> Settings:
    ha = inventory(pair, etcd.endpoints, lb_socket=lb.socket_path, dns=dns, timings=None)
    return settings_of(ha)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


def _writable(pair: PgPair) -> bool:
    try:
        with psycopg.connect(
            host=pair.replica.host,
            port=pair.port,
            user="postgres",
            dbname="postgres",
            connect_timeout=2,
            autocommit=True,
        ) as conn:
            conn.execute("create table if not exists bench_w(x int)")
            conn.execute("insert into bench_w values (1)")
            return True
    except psycopg.Error:
        return False


def _print_steps(catalog: Catalog, note: str) -> None:
    """Where the failover runbook's time went, step by step (note: "run N")."""
    if not note.startswith("run "):
        return
    run = get_run(catalog, int(note.removeprefix("run ")))
    for step in run.steps:
        print(f"BENCH   step {step.name}: {step.duration_s or 0.0:.3f} s ({step.status.value})")
    print(f"BENCH   runbook {run.duration_s or 0.0:.3f} s")


@pytest.mark.parametrize("trial", [1, 2, 3])
@pytest.mark.parametrize("what", ["database", "agent+database"])
def test_kill_to_first_write(
    what: str,
    trial: int,
    pg_pair: PgPair,
    etcd: EtcdCluster,
    knot: KnotServer,
    haproxy: HaproxyServer,
    catalog: Catalog,
) -> None:
    settings = _settings(pg_pair, etcd, knot, haproxy)
    assert settings.ha is not None
    agents = {s: build_agent(settings, s, lambda: catalog) for s in ("east", "west", "witness")}
    stop = threading.Event()
    east_stop = threading.Event()  # the east agent "killed": stops, its lease is left to expire
    threads = [
        threading.Thread(target=a.run, args=(east_stop if s == "east" else stop,))
        for s, a in agents.items()
    ]
    for thread in threads:
        thread.start()
    dcs = dcs_for(settings.ha)
    try:
        deadline = time.monotonic() + 60
        while (v := dcs.read()).leader is None or "west" not in v.members:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(3 + trial * 0.3)
        killed = time.monotonic()
        if what == "agent+database":
            east_stop.set()
        pg_pair.primary.stop("immediate")
        while not _writable(pg_pair):
            assert time.monotonic() < killed + 120
            time.sleep(0.05)
        first_write = time.monotonic() - killed
        while not (history := dcs.read().history):
            time.sleep(0.05)
        print(
            f"\nBENCH kill {what} trial {trial}: first write on the new primary "
            f"{first_write:.2f} s after the kill"
        )
        _print_steps(catalog, str(history[-1].get("note", "")))
    finally:
        stop.set()
        east_stop.set()
        for thread in threads:
            thread.join(60)
        dcs.close()
        for agent in agents.values():
            agent.dcs.close()
