"""drkit against Patroni on the same etcd, HAProxy and PostgreSQL 15: one harness, one run.

    .venv/bin/python -m bench.ha.compare --trials 3 \\
        --output bench/results/ha-compare.json --markdown bench/results/ha-compare.md

The method is the Patroni anchor's: a client writes one numbered row every
100 ms through the load balancer (2 s client timeout, reconnect after an
error); after 10 s of steady writes the failure is injected at a phase spread
over the primary's loop interval (trial k of n: (k - 0.5) / n of the loop after
its last loop, read from the key it rewrites every loop in etcd). Scenarios:

- ``kill``: SIGKILL of the primary's agent and of its PostgreSQL (postmaster and
  children);
- ``freeze3`` / ``freeze60``: SIGSTOP of the same processes, SIGCONT to exactly
  them 3 s / 60 s later.

Systems: drkit at its defaults, Patroni 4.1.x (PyPI, its own venv under the
work directory) at its defaults and at its fastest allowed timings. Each trial
starts from a fresh two-node cluster. Must run as root (Patroni and PostgreSQL
run as user postgres).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tests.fixtures.etcd import running_cluster
from tests.fixtures.ha import PRIMARY_HOST, REPLICA_HOST, make_template, postgres_dir
from tests.fixtures.net import free_port

from bench.ha.analyze import table, trial_figures
from bench.ha.procs import signal_all
from bench.ha.systems import (
    PATRONI_PROFILES,
    Cluster,
    Parts,
    drkit_cluster,
    haproxy_config,
    patroni_cluster,
    patroni_venv,
    patroni_version,
)
from bench.ha.writer import TABLE, Writer

SCENARIOS: dict[str, float | None] = {"kill": None, "freeze3": 3.0, "freeze60": 60.0}
SYSTEMS = ("drkit", *PATRONI_PROFILES)
STEADY_S = 10.0


class Monitor:
    """Polls the replica every 50 ms; remembers when it first answered as writable."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.promoted_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        conn = None
        while not self._stop.wait(0.05) and self.promoted_at is None:
            try:
                if conn is None:
                    conn = psycopg.connect(
                        host=self.host, port=self.port, user="postgres", dbname="postgres",
                        connect_timeout=1, autocommit=True,
                    )  # fmt: skip
                row = conn.execute("select pg_is_in_recovery()").fetchone()
                if row is not None and row[0] is False:
                    self.promoted_at = time.time()
            except psycopg.Error:
                conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def _mod_revision(endpoint: str, key: str) -> str | None:
    body = {"key": base64.b64encode(key.encode()).decode()}
    kvs = httpx.post(f"{endpoint}/v3/kv/range", json=body, timeout=1.0).json().get("kvs") or []
    return str(kvs[0]["mod_revision"]) if kvs else None


def next_loop(endpoint: str, key: str, timeout: float) -> float:
    """Wall time at which the primary's agent next rewrote ``key`` (its loop), polled at 20 ms."""
    first = _mod_revision(endpoint, key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _mod_revision(endpoint, key) != first:
            return time.time()
        time.sleep(0.02)
    raise RuntimeError(f"{key} did not change in {timeout:g} s: no loop of the primary seen")


def _final_rows(cluster: Cluster, promoted: bool) -> tuple[set[int], dict[str, Any]]:
    state: dict[str, Any] = {}
    for host in (cluster.primary_host, cluster.replica_host):
        try:
            with psycopg.connect(
                host=host, port=cluster.port, user="postgres", dbname="postgres",
                connect_timeout=3, autocommit=True,
            ) as conn:  # fmt: skip
                (recovery,) = conn.execute("select pg_is_in_recovery()").fetchone() or (None,)
                state[host] = "replica" if recovery else "primary"
        except psycopg.Error:
            state[host] = "down"
    final = cluster.replica_host if promoted else cluster.primary_host
    if state.get(final) != "primary":  # say which, rather than read a dead server
        raise RuntimeError(f"no primary where expected ({final}): {state}")
    with psycopg.connect(
        host=final, port=cluster.port, user="postgres", dbname="postgres", connect_timeout=5
    ) as conn:
        rows = {int(r[0]) for r in conn.execute(f"select seq from {TABLE}").fetchall()}
    return rows, state


def _cluster(parts: Parts, system: str, trial: str) -> contextlib.AbstractContextManager[Cluster]:
    if system == "drkit":
        return drkit_cluster(parts, trial)
    return patroni_cluster(parts, trial, system)


def run_trial(parts: Parts, system: str, scenario: str, k: int, n: int) -> dict[str, Any]:
    trial = f"{scenario}-{system}-r{k}"
    freeze = SCENARIOS[scenario]
    with _cluster(parts, system, trial) as cluster:
        writer = Writer("127.0.0.1", cluster.frontend_port)
        with Monitor(cluster.replica_host, cluster.port) as monitor:
            writer.start()
            try:
                time.sleep(STEADY_S)
                phase = (k - 0.5) / n * cluster.loop_s
                loop_at = next_loop(
                    parts.etcd_endpoints[0], cluster.phase_key, cluster.loop_s * 3 + 5
                )
                time.sleep(max(loop_at + phase - time.time(), 0.0))
                sig = signal.SIGKILL if freeze is None else signal.SIGSTOP
                inject, pids = signal_all(cluster.victims, sig)
                resumed = None
                if freeze is not None:
                    time.sleep(max(inject + freeze - time.time(), 0.0))
                    for pid in pids:
                        with contextlib.suppress(OSError):
                            os.kill(pid, signal.SIGCONT)
                    resumed = time.time()
                _wait_end(writer, inject, freeze, cluster.ttl_s, cluster.replica_host)
            finally:
                writer.stop()
        folder = parts.work / trial
        (folder / "attempts.json").write_text(json.dumps([a.__dict__ for a in writer.attempts]))
        (folder / "events.json").write_text(
            json.dumps(
                {
                    "inject": inject,
                    "resumed": resumed,
                    "pids": pids,
                    "promoted_at": monitor.promoted_at,
                }
            )
        )
        rows, state = _final_rows(cluster, monitor.promoted_at is not None)
        figures = trial_figures(
            writer.attempts, inject, monitor.promoted_at, PRIMARY_HOST, REPLICA_HOST, rows
        )
    return {
        "scenario": scenario,
        "system": system,
        "trial": k,
        "phase_s": round(phase, 3),
        "inject": inject,
        "resumed": resumed,
        "signalled": len(pids),
        "end_state": state,
        **figures,
    }


def _wait_end(
    writer: Writer, inject: float, freeze: float | None, ttl: float, new_host: str
) -> None:
    """Kill: 10 s after the new primary's first write. Freeze: also past the thaw and a lease."""
    hold = 0.0 if freeze is None else max(freeze + 15.0, ttl + 10.0)
    cap = inject + (150.0 if freeze is None else freeze + 150.0)
    while time.time() < cap:
        after = [
            a.end
            for a in writer.attempts
            if a.ok and a.start > inject and (freeze is not None or a.server == new_host)
        ]
        now = time.time()
        if after and now > min(after) + 10.0 and now > inject + hold:
            return
        time.sleep(0.2)


@contextlib.contextmanager
def haproxy(work: Path, frontends: dict[str, int], pg_port: int, rest: int) -> Iterator[Path]:
    sock = work / "haproxy.sock"
    config = work / "haproxy.cfg"
    config.write_text(haproxy_config(sock, frontends, pg_port, rest))
    with (work / "haproxy.log").open("wb") as log:
        proc = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start: {(work / 'haproxy.log').read_text()}")
            time.sleep(0.05)
        yield sock
    finally:
        proc.terminate()
        proc.wait(10)


def versions(venv: Path) -> dict[str, str]:
    def first_line(*argv: str) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    return {
        "patroni": patroni_version(venv),
        "postgresql": first_line("/usr/lib/postgresql/15/bin/postgres", "--version"),
        "etcd": first_line("etcd", "--version"),
        "haproxy": first_line("haproxy", "-v"),
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ha.compare", description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--work", type=Path, default=Path("bench/work/ha"))
    parser.add_argument("--output", type=Path, default=None, help="JSON of every trial")
    parser.add_argument("--markdown", type=Path, default=None, help="the table")
    args = parser.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    systems = [s for s in args.systems.split(",") if s]
    for name in scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    for name in systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r} (known: {', '.join(SYSTEMS)})")
    if os.geteuid() != 0:
        parser.error("run as root: Patroni and PostgreSQL run as user postgres (setpriv/runuser)")
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    venv = patroni_venv(work)
    run_dir = postgres_dir("drkit-bench-ha-")
    results: dict[str, Any] = {"versions": versions(venv), "trials": []}
    try:
        template = make_template(run_dir)
        etcd_dir = run_dir / "etcd"
        etcd_dir.mkdir()
        pg_port = free_port(PRIMARY_HOST, REPLICA_HOST)
        rest_port = free_port(PRIMARY_HOST, REPLICA_HOST)
        frontends = {name: free_port() for name in SYSTEMS}
        with (
            running_cluster(etcd_dir) as etcd,
            haproxy(work, frontends, pg_port, rest_port) as sock,
        ):
            parts = Parts(etcd.endpoints, sock, frontends, pg_port, rest_port, template, venv, work)
            for scenario in scenarios:
                for k in range(1, args.trials + 1):
                    for system in systems:
                        started = time.time()
                        try:
                            result = run_trial(parts, system, scenario, k, args.trials)
                        except Exception as exc:  # one broken trial is reported, the run goes on
                            result = {"scenario": scenario, "system": system, "trial": k,
                                      "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
                        result["wall_s"] = round(time.time() - started, 1)
                        results["trials"].append(result)
                        print(json.dumps(result)[:600], flush=True)
                        _save(results, args.output, args.markdown)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(table([t for t in results["trials"] if "error" not in t]))
    return 1 if any("error" in t for t in results["trials"]) else 0


def _save(results: dict[str, Any], output: Path | None, markdown: Path | None) -> None:
    if output is not None:
        output.write_text(json.dumps(results, indent=1) + "\n")
    if markdown is not None:
        ok = [t for t in results["trials"] if "error" not in t]
        markdown.write_text(table(ok))


if __name__ == "__main__":
    raise SystemExit(main())
