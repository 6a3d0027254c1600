"""Patroni in drkit's partition lab: the primary site cut off (its link down).

    .venv/bin/python -m bench.ha.patroni_partition --trials 3 \
        --output bench/results/ha-partition-patroni.json \
        --markdown bench/results/ha-partition-patroni.md

The namespaces, etcd members, Knot and client of the partition scenarios
(tests/fixtures/ha_netns.py); in place of drkit's agents, Patroni 4.1 (its own
venv, bench/ha/systems.py) in ``east`` and ``west``, on the same three etcd
members, with PostgreSQL 15 and the same server settings. Per site an HAProxy
in the site's namespace with Patroni's REST health check (``GET /primary``,
expect 200) in front of the site's own database: the same layout as drkit's
per-site load balancer, so the same client (tests/fixtures/ha_client.py: one
row every 100 ms to both sites' load balancers, and east's own app through
east's) and the same history checker (tests/fixtures/ha_history.py) apply.
Profiles: Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10, HAProxy
``inter 3s fall 3 rise 2``) and its fastest allowed timings (ttl 20, loop_wait
1, retry_timeout 3, ``inter 500ms fall 2 rise 1``). Measured from the cut, as
in bench/ha/partition.py: east's database stops taking writes (seen from inside
east), west's database takes writes, west's first acknowledged write through a
load balancer, the two-primary window, and east's acknowledgements after
west's first. Must run as root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.fixtures.ha import PG_BIN, postgres_dir
from tests.fixtures.ha_client import CREATE
from tests.fixtures.ha_history import check_history, figures, load_history
from tests.fixtures.ha_netns import (
    CLIENT,
    DB_SITES,
    ETCD_CLIENT,
    PG_PORT,
    HaNetCluster,
    NsPgNode,
    ha_net_cluster,
)
from tests.fixtures.haproxy import HAPROXY
from tests.fixtures.netns import BRIDGE_NS

from bench.ha.systems import (
    AS_POSTGRES,
    PATRONI_PROFILES,
    SERVER_CONF,
    _stop,
    patroni_venv,
    patroni_version,
)

REST_PORT, LB_PORT = 8008, 6433
KINDS = ("link", "drop")
LB_TUNING = {
    "patroni-default": ["  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions"],
    "patroni-fast": [
        "  timeout check 1s",
        "  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions",
    ],
}


def _config(
    cluster: HaNetCluster, root: Path, scope: str, site: str, timings: dict[str, float]
) -> dict[str, Any]:
    lab, addr = cluster.lab, cluster.lab.address(site)
    return {
        "scope": scope,
        "namespace": "/patroni_netns/",
        "name": site,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"{addr}:{REST_PORT}", "connect_address": f"{addr}:{REST_PORT}"},
        "etcd3": {
            "hosts": [f"{lab.address(s)}:{ETCD_CLIENT}" for s in ("east", "west", "witness")]
        },
        "bootstrap": {
            "dcs": {
                **timings,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {"wal_level": "replica", **SERVER_CONF},
                },
            },
            "initdb": [{"auth": "trust"}],
        },
        "postgresql": {
            "listen": f"{addr}:{PG_PORT}",
            "connect_address": f"{addr}:{PG_PORT}",
            "data_dir": str(root / site),
            "bin_dir": str(PG_BIN),
            "pgpass": str(root / f"pgpass-{site}"),
            "authentication": {
                "superuser": {"username": "postgres", "password": "bench"},
                "replication": {"username": "replicator", "password": "bench"},
            },
            "parameters": {"unix_socket_directories": str(root / f"sock-{site}")},
            "pg_hba": [
                "local all all trust",
                "host all all 10.200.0.0/16 trust",
                "host replication all 10.200.0.0/16 trust",
            ],
        },
    }


def _haproxy_config(cluster: HaNetCluster, site: str, profile: str) -> str:
    addr = cluster.lab.address(site)
    return "\n".join(
        [
            "defaults",
            "  mode tcp",
            "  timeout connect 4s",
            "  timeout client 30m",
            "  timeout server 30m",
            "  timeout check 5s",
            "frontend fe",
            f"  bind {addr}:{LB_PORT}",
            "  default_backend db",
            "backend db",
            "  option httpchk GET /primary",
            "  http-check expect status 200",
            *LB_TUNING[profile],
            f"  server {site} {addr}:{PG_PORT} check port {REST_PORT}",
            "",
        ]
    )


@dataclass
class PatroniLab:
    cluster: HaNetCluster
    folder: Path
    root: Path
    nodes: dict[str, NsPgNode]
    procs: list[Any] = field(default_factory=list)
    clients: dict[str, Any] = field(default_factory=dict)

    def rest(self, site: str, path: str) -> int:
        with self.cluster.lab.entered(BRIDGE_NS):
            url = f"http://{self.cluster.lab.address(site)}:{REST_PORT}{path}"
            return httpx.get(url, timeout=1.0).status_code

    def lb(self, site: str) -> str:
        return f"{self.cluster.lab.address(site)}:{LB_PORT}"

    def start_client(self, name: str, ns: str, targets: dict[str, str], t0: float) -> None:
        out = self.folder / f"client-{name}.jsonl"
        argv: list[str | Path] = [
            sys.executable,
            CLIENT,
            "--out",
            out,
            "--t0",
            repr(t0),
            "--name",
            name,
        ]
        for target, address in targets.items():
            argv += ["--target", f"{target}={address}"]
        log = self.folder / f"client-{name}.log"
        self.clients[name] = self.cluster.lab.popen(ns, argv, log)

    def acked(self, site: str) -> int:
        path = self.folder / "client-client.jsonl"
        if not path.exists():
            return 0
        address = self.cluster.lab.address(site)
        return path.read_text().count(f'"server": "{address}"')

    def stop_clients(self) -> list[Any]:
        _stop(list(self.clients.values()))
        acks = []
        for name in self.clients:
            acks += load_history(self.folder / f"client-{name}.jsonl", self.site_of)
        self.clients.clear()
        return acks

    def site_of(self, address: str) -> str:
        for site in DB_SITES:
            if self.cluster.lab.address(site) == address:
                return site
        return address


def _wait(what: str, condition: Any, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while True:
        with contextlib.suppress(Exception):
            if condition():
                return
        if time.time() > deadline:
            raise RuntimeError(f"not reached in {timeout} s: {what}")
        time.sleep(0.1)


def _streaming(east: NsPgNode, name: str) -> bool:
    rows = east.query(
        "select state, replay_lsn = pg_current_wal_lsn() from pg_stat_replication "
        f"where application_name = '{name}'"
    )
    return bool(rows) and rows[0][0] == "streaming" and bool(rows[0][1])


@contextlib.contextmanager
def patroni_lab(cluster: HaNetCluster, venv: Path, profile: str, tag: str) -> Iterator[PatroniLab]:
    lab = cluster.lab
    folder = cluster.folder / f"patroni-{profile}-{tag}"
    folder.mkdir()
    root = postgres_dir("drkit-netns-patroni-")
    nodes = {
        s: NsPgNode(s, lab.address(s), PG_PORT, root / s, root / f"{s}.log", lab, s)
        for s in DB_SITES
    }
    plab = PatroniLab(cluster, folder, root, nodes)
    scope = f"netns-{profile}-{tag}-{time.time_ns() // 1_000_000}"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(root), "TZ": "UTC",
           "LANG": "C.UTF-8"}  # fmt: skip
    try:
        for site in DB_SITES:
            (root / f"sock-{site}").mkdir()
            shutil.chown(root / f"sock-{site}", "postgres", "postgres")
            config = root / f"{site}.yml"
            timings = PATRONI_PROFILES[profile]
            config.write_text(json.dumps(_config(cluster, root, scope, site, timings), indent=2))
            shutil.chown(config, "postgres", "postgres")
            cfg = folder / f"haproxy-{site}.cfg"
            cfg.write_text(_haproxy_config(cluster, site, profile))
            plab.procs.append(
                lab.popen(site, [HAPROXY, "-db", "-f", cfg], folder / f"haproxy-{site}.log")
            )
        for site in DB_SITES:
            argv = [*AS_POSTGRES, str(venv / "bin" / "patroni"), str(root / f"{site}.yml")]
            plab.procs.append(lab.popen(site, argv, folder / f"patroni-{site}.log", env))
            if site == "east":
                _wait("Patroni east as primary", lambda: plab.rest("east", "/primary") == 200)
        _wait("Patroni west streaming", lambda: _streaming(nodes["east"], "west"))
        nodes["east"].query(CREATE)
        yield plab
    finally:
        with contextlib.suppress(Exception):
            plab.stop_clients()
        lab.heal()
        _stop(plab.procs)
        for node in nodes.values():
            node.stop_quietly()
        shutil.rmtree(root, ignore_errors=True)


def trial(
    cluster: HaNetCluster, venv: Path, profile: str, kind: str, number: int
) -> dict[str, Any]:
    with patroni_lab(cluster, venv, profile, f"{kind}-{number}") as p:
        east, west = p.nodes["east"], p.nodes["west"]
        t0 = time.time() + 1.0
        both = {s: p.lb(s) for s in DB_SITES}
        p.start_client("client", "client", both, t0)
        p.start_client("east-app", "east", {"east": both["east"]}, t0)
        _wait("20 writes acknowledged by east", lambda: p.acked("east") >= 20, 120)
        time.sleep(2.0)
        durable_before = time.time()
        _wait("west caught up", lambda: _streaming(east, "west"), 30)
        cut_at = time.time()
        if kind == "link":
            cluster.lab.link_down("east")
        else:
            cluster.lab.drop("east")
        limit = cut_at + 300
        fenced_at = promoted_at = None
        while fenced_at is None or promoted_at is None:
            assert time.time() < limit, f"no fence/promotion in 300 s: see {p.folder}"
            if fenced_at is None and not east.writable():
                fenced_at = time.time()
            if promoted_at is None and west.writable():
                promoted_at = time.time()
            time.sleep(0.05)
        _wait("west's first write through its LB", lambda: p.acked("west") > 0, 120)
        cluster.lab.heal()
        time.sleep(3.0)
        acks = p.stop_clients()
        present = {int(r[0]) for r in west.query("select seq from hist")}
        seen = figures(acks, cut_at, "east", "west")
        west_first = seen.first_ack_after.get("west")
        east_last = seen.last_ack.get("east", cut_at)
        window = 0.0 if west_first is None else max(0.0, east_last - west_first)
        violations = check_history(acks, present, survivor="west", durable_before=durable_before)
        timings = PATRONI_PROFILES[profile]
        return {
            "system": profile,
            "kind": kind,
            "ttl_s": timings.get("ttl", 30.0),
            "loop_wait_s": timings.get("loop_wait", 10.0),
            "retry_timeout_s": timings.get("retry_timeout", 10.0),
            "fence_s": round(fenced_at - cut_at, 2),
            "west_writable_s": round(promoted_at - cut_at, 2),
            "first_west_write_s": None if west_first is None else round(west_first - cut_at, 2),
            "two_primary_window_s": round(window, 2),
            "east_acks_after_west_first": seen.acks_by_fenced_after_new_first,
            "east_last_ack_after_cut_s": round(east_last - cut_at, 2),
            "violations": [str(v) for v in violations],
        }


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def table(results: list[dict[str, Any]], version: str) -> str:
    lines = [
        f"{version}; east (the primary site) cut: `link` its link down, `drop` silent loss.\n",
        "| system | cut | trials | cut to east fenced s | cut to west writable s "
        "| cut to west's first write s | two-primary window s | east acks after west's first "
        "| east's last ack after cut s | history violations |",
        "|---|---|---:|---|---|---|---|---:|---|---:|",
    ]
    for kind, profile in [(k, p) for k in KINDS for p in PATRONI_PROFILES]:
        rows = [r for r in results if r["system"] == profile and r["kind"] == kind]
        if not rows:
            continue
        first = [r["first_west_write_s"] for r in rows if r["first_west_write_s"] is not None]
        lines.append(
            f"| {profile} | {kind} | {len(rows)} | {_spread([r['fence_s'] for r in rows])} | "
            f"{_spread([r['west_writable_s'] for r in rows])} | {_spread(first)} | "
            f"{_spread([r['two_primary_window_s'] for r in rows])} | "
            f"{sum(r['east_acks_after_west_first'] for r in rows)} | "
            f"{_spread([r['east_last_ack_after_cut_s'] for r in rows])} | "
            f"{sum(len(r['violations']) for r in rows)} |"
        )
    return "\n".join(lines) + "\n\nmin / median / max over the trials.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ha.patroni_partition", description=__doc__
    )
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--profiles", default=",".join(PATRONI_PROFILES))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--work", type=Path, default=Path("bench/work/ha"))
    parser.add_argument("--output", type=Path, default=None, help="JSON of every trial")
    parser.add_argument("--markdown", type=Path, default=None, help="the table")
    options = parser.parse_args(argv)
    options.work.mkdir(parents=True, exist_ok=True)
    venv = patroni_venv(options.work.resolve())
    version = patroni_version(venv)
    results: list[dict[str, Any]] = []
    with ha_net_cluster() as cluster:
        for kind in options.kinds.split(","):
            for profile in options.profiles.split(","):
                for number in range(options.trials):
                    result = trial(cluster, venv, profile, kind, number)
                    print(f"{profile} {kind} {number + 1}: {json.dumps(result)}", flush=True)
                    results.append(result)
    text = table(results, version)
    print(text)
    if options.output is not None:
        options.output.write_text(json.dumps(results, indent=2) + "\n")
    if options.markdown is not None:
        options.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
