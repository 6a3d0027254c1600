"""The two systems under test, each bringing up a fresh two-node cluster for one trial.

Both use the same parts: one 3-member etcd, one HAProxy (a frontend and backend
per system), PostgreSQL 15 from /usr/lib/postgresql/15/bin with the primary on
127.0.0.2 and the replica on 127.0.0.3 (the same port), the same server
settings. drkit's cluster is the scenario tests' (tests/fixtures/ha_scenario.py)
at drkit's default timings, its three agents run as ``drkit agent --site``
processes; Patroni's two nodes run Patroni from its own venv as user postgres.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tests.fixtures.ha import PG_BIN, PRIMARY_HOST, REPLICA_HOST, postgres_dir, running_pair
from tests.fixtures.ha_scenario import SITES, inventory

from bench.ha.procs import tree
from bench.ha.writer import CREATE

SERVER_CONF = {  # both systems: the test fixture's server settings, commits flushed
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "30",
    "wal_log_hints": "on",
    "synchronous_commit": "on",
}
PATRONI_PROFILES: dict[str, dict[str, float]] = {
    "patroni-default": {},  # Patroni's own defaults: ttl 30, loop_wait 10, retry_timeout 10
    "patroni-fast": {"ttl": 20, "loop_wait": 1, "retry_timeout": 3},  # its minimums
}
DRKIT_AGENT = (sys.executable, "-m", "drkit", "--config")
AS_POSTGRES = ("setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups")
PATRONI_PACKAGES = ("patroni[etcd3]>=4.1,<4.2", "psycopg[binary]>=3.1")
DRKIT_DEFAULTS = {"ttl": 8.0, "loop_wait": 1.0}


@dataclass(frozen=True)
class Parts:
    """What every trial shares: etcd, HAProxy and the fixed ports."""

    etcd_endpoints: list[str]
    lb_socket: Path
    frontends: dict[str, int]
    pg_port: int
    rest_port: int
    template: Path
    patroni_venv: Path
    work: Path


@dataclass
class Cluster:
    """One trial's running cluster, as the harness sees it."""

    system: str
    primary_host: str
    replica_host: str
    port: int
    frontend_port: int
    loop_s: float
    ttl_s: float
    phase_key: str
    """An etcd key the primary's agent rewrites every loop (its last loop = its last change)."""
    victims: Callable[[], list[int]]
    """The primary's agent and database processes (rescanned on every call)."""
    log_files: list[Path] = field(default_factory=list)


def lb_runtime(socket_path: Path, command: str) -> str:
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(socket_path))
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def lb_states(socket_path: Path, backend: str) -> dict[str, tuple[str, str]]:
    """server -> (operational state, admin state) from ``show servers state``."""
    rows = lb_runtime(socket_path, f"show servers state {backend}").splitlines()[2:]
    return {f[3]: (f[5], f[6]) for f in (r.split() for r in rows) if len(f) > 6}


def _wait(what: str, condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if condition():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _sql(host: str, port: int, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(
        host=host, port=port, user="postgres", dbname="postgres", connect_timeout=2, autocommit=True
    ) as conn:
        cur = conn.execute(query)  # type: ignore[call-overload]
        return cur.fetchall() if cur.description else []  # type: ignore[no-any-return]


def _writable_through(port: int) -> bool:
    (row,) = _sql("127.0.0.1", port, "select not pg_is_in_recovery()")
    return bool(row[0])


def _streaming(primary: str, port: int, name: str) -> bool:
    """``name`` streams (pg_basebackup's own WAL stream also shows as streaming)."""
    rows = _sql(primary, port, "select application_name, state from pg_stat_replication")
    return (name, "streaming") in rows


def _etcd_get(endpoints: list[str], key: str) -> dict[str, Any] | None:
    body = {"key": base64.b64encode(key.encode()).decode()}
    answer = httpx.post(f"{endpoints[0]}/v3/kv/range", json=body, timeout=1.0).json()
    kvs = answer.get("kvs") or []
    return kvs[0] if kvs else None


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            for pid in tree(proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGCONT)
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _kill_postgres(data_dir: Path) -> None:
    pid_file = data_dir / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().split()[0])
        for each in tree(pid):
            with contextlib.suppress(OSError):
                os.kill(each, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


# --- drkit ------------------------------------------------------------------------------------


@contextlib.contextmanager
def drkit_cluster(parts: Parts, trial: str) -> Iterator[Cluster]:
    extra = "".join(f"{k} = {v}\n" for k, v in SERVER_CONF.items())
    folder = parts.work / trial
    folder.mkdir(parents=True, exist_ok=True)
    with running_pair(parts.template, extra_conf=extra, port=parts.pg_port) as pair:
        pair.primary.query(CREATE)
        pair.wait_replicated()
        cluster_name = f"bench-{trial}-{time.time_ns() // 1_000_000}"
        ha = inventory(
            pair,
            parts.etcd_endpoints,
            lb_socket=parts.lb_socket,
            backend="drkit",
            timings=None,
            cluster=cluster_name,
        )
        config = folder / "drkit.yaml"
        config.write_text(json.dumps({"version": 1, "ha": ha}, indent=2))
        lb_runtime(parts.lb_socket, "set server drkit/s1 state ready")
        lb_runtime(parts.lb_socket, "set server drkit/s2 state maint")
        procs: dict[str, subprocess.Popen[bytes]] = {}
        logs = []
        try:
            for site in SITES:
                env = {**os.environ, "DRKIT_HOME": str(folder / f"home-{site}")}
                env.pop("DRKIT_CONFIG", None)
                log = folder / f"agent-{site}.log"
                logs.append(log)
                with log.open("wb") as out:
                    procs[site] = subprocess.Popen(
                        [*DRKIT_AGENT, str(config), "agent", "--site", site],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
            prefix = f"/drkit/{cluster_name}/"

            def ready() -> bool:
                leader = _etcd_get(parts.etcd_endpoints, prefix + "leader")
                west = _etcd_get(parts.etcd_endpoints, prefix + "member/west")
                if leader is None or west is None:
                    return False
                return b"east" in base64.b64decode(leader["value"]) and _writable_through(
                    parts.frontends["drkit"]
                )

            _wait("the drkit cluster", ready)
            east_pid = procs["east"].pid
            yield Cluster(
                system="drkit",
                primary_host=pair.primary.host,
                replica_host=pair.replica.host,
                port=pair.port,
                frontend_port=parts.frontends["drkit"],
                loop_s=DRKIT_DEFAULTS["loop_wait"],
                ttl_s=DRKIT_DEFAULTS["ttl"],
                phase_key=prefix + "member/east",
                victims=lambda: tree(east_pid) + _postmaster_tree(pair.primary.data_dir),
                log_files=[*logs, pair.primary.log, pair.replica.log],
            )
        finally:
            _stop(list(procs.values()))
            _kill_postgres(pair.primary.data_dir)
            _kill_postgres(pair.replica.data_dir)


def _postmaster_tree(data_dir: Path) -> list[int]:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return tree(pid)


# --- Patroni ----------------------------------------------------------------------------------


def patroni_venv(work: Path) -> Path:
    """Patroni 4.1.x from PyPI in its own venv (Debian's python3: user postgres can run it)."""
    venv = work / "patroni-venv"
    if not (venv / "bin" / "patroni").exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", *PATRONI_PACKAGES],
            check=True,
        )
    return venv


def patroni_version(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "patroni"), "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _patroni_config(
    parts: Parts, root: Path, scope: str, name: str, host: str, timings: dict[str, float]
) -> dict[str, Any]:
    hosts = [e.removeprefix("http://") for e in parts.etcd_endpoints]
    return {
        "scope": scope,
        "namespace": "/patroni_bench/",
        "name": name,
        "log": {"level": "INFO"},
        "restapi": {
            "listen": f"{host}:{parts.rest_port}",
            "connect_address": f"{host}:{parts.rest_port}",
        },
        "etcd3": {"hosts": hosts},
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
            "listen": f"{host}:{parts.pg_port}",
            "connect_address": f"{host}:{parts.pg_port}",
            "data_dir": str(root / name),
            "bin_dir": str(PG_BIN),
            "pgpass": str(root / f"pgpass-{name}"),
            "authentication": {
                "superuser": {"username": "postgres", "password": "bench"},
                "replication": {"username": "replicator", "password": "bench"},
            },
            "parameters": {"unix_socket_directories": str(root / f"sock-{name}")},
            "pg_hba": [
                "local all all trust",
                "host all all 127.0.0.0/8 trust",
                "host replication all 127.0.0.0/8 trust",
            ],
        },
    }


def _rest(host: str, port: int, path: str) -> int:
    return httpx.get(f"http://{host}:{port}{path}", timeout=1.0).status_code


@contextlib.contextmanager
def patroni_cluster(parts: Parts, trial: str, profile: str) -> Iterator[Cluster]:
    timings = PATRONI_PROFILES[profile]
    folder = parts.work / trial
    folder.mkdir(parents=True, exist_ok=True)
    root = postgres_dir("drkit-bench-patroni-")
    scope = f"bench-{trial}-{time.time_ns() // 1_000_000}"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = []
    nodes = {"node1": PRIMARY_HOST, "node2": REPLICA_HOST}
    try:
        for name, host in nodes.items():
            (root / f"sock-{name}").mkdir()
            shutil.chown(root / f"sock-{name}", "postgres", "postgres")
            config = root / f"{name}.yml"
            config.write_text(
                json.dumps(_patroni_config(parts, root, scope, name, host, timings), indent=2)
            )
            shutil.chown(config, "postgres", "postgres")
        for name in nodes:
            log = folder / f"patroni-{name}.log"
            logs.append(log)
            with log.open("wb") as out:
                procs[name] = subprocess.Popen(
                    [
                        *AS_POSTGRES,
                        str(parts.patroni_venv / "bin" / "patroni"),
                        str(root / f"{name}.yml"),
                    ],
                    env={**os.environ, "HOME": str(root), "TZ": "UTC"},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=root,
                )
            if name == "node1":
                _wait(
                    "Patroni node1 as primary",
                    lambda: _rest(PRIMARY_HOST, parts.rest_port, "/primary") == 200,
                )
        _wait("Patroni node2 streaming", lambda: _streaming(PRIMARY_HOST, parts.pg_port, "node2"))
        backend = profile.replace("-", "_")
        _wait(
            "HAProxy sending to node1 only",
            lambda: (
                [s[0] for _, s in sorted(lb_states(parts.lb_socket, backend).items())] == ["2", "0"]
            ),
        )
        _sql(PRIMARY_HOST, parts.pg_port, CREATE)
        node1_pid = procs["node1"].pid
        yield Cluster(
            system=profile,
            primary_host=PRIMARY_HOST,
            replica_host=REPLICA_HOST,
            port=parts.pg_port,
            frontend_port=parts.frontends[profile],
            loop_s=timings.get("loop_wait", 10.0),
            ttl_s=timings.get("ttl", 30.0),
            phase_key=f"/patroni_bench/{scope}/members/node1",
            victims=lambda: tree(node1_pid) + _postmaster_tree(root / "node1"),
            log_files=logs,
        )
    finally:
        _stop(list(procs.values()))
        for name in nodes:
            _kill_postgres(root / name)
        for name in nodes:
            log = root / name / "log"
            if log.is_dir():
                shutil.copytree(log, folder / f"pg-{name}-log", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def haproxy_config(parts_socket: Path, frontends: dict[str, int], pg_port: int, rest: int) -> str:
    """One HAProxy for all three: Patroni's reference checks, a faster variant, drkit's."""

    def patroni_backend(name: str, tuning: list[str]) -> list[str]:
        return [
            f"frontend {name}",
            f"  bind 127.0.0.1:{frontends[name.replace('_', '-')]}",
            f"  default_backend {name}",
            f"backend {name}",
            "  option httpchk GET /primary",
            "  http-check expect status 200",
            *tuning,
            f"  server node1 {PRIMARY_HOST}:{pg_port} check port {rest}",
            f"  server node2 {REPLICA_HOST}:{pg_port} check port {rest}",
        ]

    lines = [
        "global",
        f"  stats socket {parts_socket} mode 600 level admin",
        "defaults",
        "  mode tcp",
        "  retries 2",
        "  timeout connect 4s",
        "  timeout client 30m",
        "  timeout server 30m",
        "  timeout check 5s",
        *patroni_backend(
            "patroni_default",
            ["  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions"],
        ),
        *patroni_backend(
            "patroni_fast",
            [
                "  timeout check 1s",
                "  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions",
            ],
        ),
        "frontend drkit",
        f"  bind 127.0.0.1:{frontends['drkit']}",
        "  default_backend drkit",
        "backend drkit",
        "  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions",
        f"  server s1 {PRIMARY_HOST}:{pg_port} check",
        f"  server s2 {REPLICA_HOST}:{pg_port} check disabled",
    ]
    return "\n".join(lines) + "\n"
