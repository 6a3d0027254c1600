"""The agents as `drkit agent` runs them, on real parts on 127.0.0.x: PostgreSQL pair, 3-member
etcd, HAProxy, Knot, a webhook receiver. DNS moved by hand to the wrong site, then a replica
promoted behind the agents' back: detected, alerted (catalog + webhook, with evidence), shown
on /metrics, and resolved by the quorum's choice (the lease holder keeps the primary)."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import AlertRow
from drkit.ha.agent.runtime import build_agent, run_agent
from drkit.ha.build import dcs_for
from drkit.ha.drivers.dns.base import DnsRecord
from drkit.ha.drivers.dns.rfc2136 import Rfc2136Dns, Rfc2136Settings
from drkit.ha.ops import pause, resume
from drkit.settings.model import Settings
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import KnotServer, PgNode, PgPair
from tests.fixtures.haproxy import HaproxyServer
from tests.fixtures.net import free_port
from tests.fixtures.receivers import HttpReceiver
from tests.integration.ha.test_scenarios_pg import settings_for

SITES = ("east", "west", "witness")


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


def _wait(
    condition: Callable[[], bool], what: str | Callable[[], str], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            shown = what if isinstance(what, str) else what()
            raise AssertionError(f"not reached in {timeout} s: {shown}")
        time.sleep(0.1)


def _with_alerts(base: Settings, hook: str) -> Settings:
    data: dict[str, Any] = base.model_dump(mode="json", exclude_defaults=True)
    for site in SITES:
        data["ha"]["sites"][site]["metrics_port"] = free_port("127.0.0.1")
    data["notifiers"] = {"hook": {"type": "webhook", "url": hook}}
    return Settings.model_validate(data)


def _alerts(catalog: Catalog) -> list[AlertRow]:
    with catalog.session() as session:
        return list(session.scalars(select(AlertRow).where(AlertRow.dedup_key.like("ha-split%"))))


def _open_kinds(catalog: Catalog) -> set[str]:
    return {a.dedup_key.split(":")[3] for a in _alerts(catalog) if a.status == "open"}


def _read_only(node: PgNode) -> bool:
    try:
        return node.in_recovery()
    except psycopg.OperationalError:
        return False  # restarting as a standby


def _metrics(settings: Settings, site: str) -> str:
    assert settings.ha is not None
    port = settings.ha.sites[site].metrics_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return answer.read().decode()  # type: ignore[no-any-return]


def test_divergent_dns_and_a_hand_made_second_primary_on_real_parts(
    pg_pair: PgPair,
    etcd: EtcdCluster,
    knot: KnotServer,
    haproxy: HaproxyServer,
    catalog: Catalog,
    http_receiver: HttpReceiver,
) -> None:
    settings = _with_alerts(settings_for(pg_pair, etcd, knot, haproxy), http_receiver.url("/hook"))
    assert settings.ha is not None
    cluster = settings.ha.cluster
    haproxy.runtime("set server db/s2 state maint")
    agents = {s: build_agent(settings, s, lambda: catalog) for s in SITES}
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_agent, args=(settings, a, stop)) for a in agents.values()
    ]
    for thread in threads:
        thread.start()
    dcs = dcs_for(settings.ha)
    dns = Rfc2136Dns(
        Rfc2136Settings(
            servers=[knot.address], key_name=knot.key_name, key_secret_file=knot.secret_file
        )
    )
    record = DnsRecord(knot.zone, "db")
    try:
        _wait(
            lambda: (
                (v := dcs.read()).leader is not None
                and v.leader.site == "east"
                and set(v.of_kind("reach")) == set(SITES)
            ),
            "east leads and every agent publishes its reach row",
        )
        reach = dcs.read().of_kind("reach")
        assert reach["witness"]["reaches"] == {"east": True, "west": True, "etcd": True}
        assert reach["east"]["reaches"]["database"] is True
        time.sleep(1.0)
        assert _open_kinds(catalog) == set()  # a healthy cluster raises nothing

        # 1. DNS moved by hand to the site that is not the primary
        assert dns.replace(record, [pg_pair.replica.host], 60)
        assert knot.query("db") == {pg_pair.replica.host}
        key = f"ha-splitbrain:{cluster}:east:divergent-dns:db.{knot.zone}"
        _wait(
            lambda: key in {a.dedup_key for a in _alerts(catalog)},
            lambda: (
                f"divergent-dns alert {key} among {[a.dedup_key for a in _alerts(catalog)]} "
                f"{agents['east'].split.last}"
            ),
        )
        (row,) = [a for a in _alerts(catalog) if a.dedup_key == key]
        assert row.severity == "critical"
        assert f"{knot.address}" in row.details_json and pg_pair.replica.host in row.details_json
        assert (
            f'drkit_ha_split_brain{{cluster="{cluster}",site="east",state="divergent-dns"}} 1'
            in _metrics(settings, "east")
        )
        dns.replace(record, [pg_pair.primary.host], 60)  # put back by hand
        _wait(lambda: "divergent-dns" not in _open_kinds(catalog), "divergent-dns resolved")

        # 2. the replica promoted behind the agents' back, the cluster paused so that every
        #    agent sees it before anyone acts; then resumed: the quorum's choice holds
        pause(dcs, "split-brain test", "tester")
        pg_pair.replica.query("select pg_promote(true, 60)")
        _wait(lambda: "two-primaries" in _open_kinds(catalog), "two-primaries alert")
        _wait(
            lambda: (
                len({a.dedup_key for a in _alerts(catalog) if "two-primaries" in a.dedup_key}) == 3
            ),
            "every agent reports it",
        )
        time.sleep(1.0)
        assert pg_pair.replica.in_recovery() is False  # paused: nobody fenced
        assert (
            f'drkit_ha_split_brain{{cluster="{cluster}",site="witness",state="two-primaries"}} 1'
            in _metrics(settings, "witness")
        )
        resume(dcs)
        _wait(lambda: _read_only(pg_pair.replica), "west back to read-only", timeout=90)
        assert pg_pair.primary.in_recovery() is False  # east (lease + majority) keeps it
        assert dcs.read().leader.site == "east"  # type: ignore[union-attr]
        _wait(lambda: _open_kinds(catalog) == set(), "every split-brain alert resolved")
        pg_pair.primary.query("create table written_after_the_split(n int)")

        def hooks(action: str) -> list[dict[str, Any]]:
            sent = [r.json() for r in http_receiver.requests]
            return [h for h in sent if h["action"] == action and "splitbrain" in h["dedup_key"]]

        _wait(
            lambda: (
                {h["dedup_key"] for h in hooks("trigger")}
                <= {h["dedup_key"] for h in hooks("resolve")}
            ),
            lambda: f"every alert resolved at the webhook: {hooks('trigger')} {hooks('resolve')}",
        )
        two = [h for h in hooks("trigger") if "two-primaries" in h["dedup_key"]]
        assert len(two) == 3  # one per agent, each deduplicated (sent once)
        assert {h["severity"] for h in two} == {"critical"}
        assert two[0]["details"]["west"].startswith("writable, timeline 2")
        assert two[0]["details"]["east"].startswith("writable, timeline 1")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        dcs.close()
