"""Latency and throughput of the REST API on a big catalog (a benchmark, not a test).

    python -m bench.api [--runs 10000] [--snapshots 1000] [--requests 300] [--work DIR]

Builds a drkit home (once: ``--work`` keeps it for the next time) with a
repository holding ``--snapshots`` snapshots and a catalog holding ``--runs``
runs of three steps each, serves it in a separate process (the API and the
dashboard, as `drkit serve` does, without the scheduler), then sends
``--requests`` requests per route one after the other over one keep-alive
connection with a bearer token, and prints requests per second, the
p50/p99 latency and the server's CPU time per request for each route, and
the dashboard overview's time to first byte, as a Markdown table (the CPU
time says what a request costs when the machine is shared and wall times
are noisy). Targets (issue 15): p99 <= 50 ms for /api/status, the
overview <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PASSWORD = "bench-api-passphrase"
ADMIN_PASSWORD = "bench-api-admin"
SETTINGS = """\
home: {root}
repositories:
  local:
    url: {root}/repo
    password_file: {root}/pw
    media: disk
    site: office
policies:
  app:
    sources: [{root}/src]
    repositories: [local]
    rpo: 1d
    rto: 1h
daemon:
  listen: ''
"""
ROUTES = (
    "/api/status",
    "/api/runs",
    "/api/runs?limit=1000",
    "/api/runs/{run}",
    "/api/repositories/local/snapshots",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--snapshots", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--work", type=Path, default=None, help="keep the home here")
    args = parser.parse_args()
    if args.work is None:
        with tempfile.TemporaryDirectory(prefix="drkit-bench-api-") as tmp:
            _bench(Path(tmp), args)
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        _bench(args.work, args)


def _bench(root: Path, args: argparse.Namespace) -> None:
    env = _environment(root)
    token = _prepare(root, env, args.runs, args.snapshots)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.api_server", str(root / "drkit.yaml"), str(port)],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(base)
        rows = _measure_routes(base, token, args.requests, args.runs, server.pid)
        ttfb = _overview_ttfb(base, max(20, args.requests // 10))
    finally:
        server.terminate()
        server.wait(30)
    print(f"catalog: {args.runs} runs, repository: {args.snapshots} snapshots\n")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs\n")
    print("| route | requests/s | p50 ms | p99 ms | server CPU ms/request |")
    print("|---|---:|---:|---:|---:|")
    for route, rps, p50, p99, cpu in rows:
        print(f"| GET `{route}` | {rps:.0f} | {p50:.1f} | {p99:.1f} | {cpu:.1f} |")
    p50, p99 = ttfb
    print(f"| dashboard `/` time to first byte | - | {p50:.1f} | {p99:.1f} | - |")


def _environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DRKIT_HOME=str(root),
        DRKIT_CONFIG=str(root / "drkit.yaml"),
        DRKIT_CACHE_DIR=str(root / "cache"),
        DRKIT_KDF_MEMORY_KIB="8192",
    )
    for name in ("DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        env.pop(name, None)
    return env


def _prepare(root: Path, env: dict[str, str], runs: int, snapshots: int) -> str:
    """The home, its snapshots and runs (kept when already there); returns an admin token."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("DRKIT_")})
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "a.txt").write_text("alpha\n")
    (root / "pw").write_text(PASSWORD + "\n")
    (root / "drkit.yaml").write_text(SETTINGS.format(root=root))
    from drkit.services.workspace import Workspace

    ws = Workspace(config=root / "drkit.yaml", repo="local")
    try:
        if not (root / "repo").exists():
            subprocess.run(
                [sys.executable, "-m", "drkit", "--repo", "local", "init"], env=env, check=True
            )
        _fill_snapshots(ws, root, snapshots)
        _fill_runs(ws, runs)
        return _users(ws)
    finally:
        ws.close()


def _fill_snapshots(ws: object, root: Path, wanted: int) -> None:
    from drkit.services.backup import BackupSpec, backup
    from drkit.services.workspace import Workspace

    assert isinstance(ws, Workspace)
    have = len(ws.open_named("local").snapshots(on_damaged=lambda *_: None))
    started = time.monotonic()
    for i in range(have, wanted):
        (root / "src" / "a.txt").write_text(f"alpha {i}\n")
        one = ws.child()
        try:
            backup(one, BackupSpec(paths=[str(root / "src")], tags=["bench"]))
        finally:
            one.close()
    if wanted > have:
        print(f"made {wanted - have} snapshots in {time.monotonic() - started:.0f} s")


def _fill_runs(ws: object, wanted: int) -> None:
    from sqlalchemy import func, select

    from drkit.catalog.tables import RunRow, StepRow
    from drkit.services.workspace import Workspace

    assert isinstance(ws, Workspace)
    catalog = ws.catalog()
    with catalog.session() as s:
        have = s.scalar(select(func.count()).select_from(RunRow)) or 0
    start = datetime.now(UTC) - timedelta(hours=wanted)
    kinds = ("backup", "copy", "check", "retention")
    for first in range(have, wanted, 1000):
        with catalog.session() as s:
            for i in range(first, min(first + 1000, wanted)):
                at = start + timedelta(hours=i)
                row = RunRow(
                    kind=kinds[i % 4],
                    subject="app",
                    job=f"{kinds[i % 4]}:app",
                    trigger="schedule",
                    status="succeeded" if i % 10 else "failed",
                    started_at=at,
                    finished_at=at + timedelta(seconds=30),
                    duration_s=30.0,
                    host="bench",
                    result_json='{"steps": 3}',
                )
                row.steps = [
                    StepRow(
                        seq=n + 1,
                        name=f"step {n + 1}",
                        status="succeeded",
                        started_at=at + timedelta(seconds=10 * n),
                        finished_at=at + timedelta(seconds=10 * n + 10),
                        duration_s=10.0,
                        output="ok\n" * 20,
                        details_json='{"exit_code": 0}',
                    )
                    for n in range(3)
                ]
                s.add(row)


def _users(ws: object) -> str:
    from drkit.catalog.types import utcnow
    from drkit.services.workspace import Workspace
    from drkit.users import Role, store
    from drkit.users.errors import UserNotFound
    from drkit.users.passwords import hash_password
    from drkit.users.tokens import issue_token

    assert isinstance(ws, Workspace)
    with ws.catalog().session() as s:
        try:
            store.get_user(s, "bench")
        except UserNotFound:
            store.add_user(s, "bench", hash_password(ADMIN_PASSWORD), [Role.ADMIN])
        return issue_token(s, "bench", "bench", None, None, utcnow()).secret


def _measure_routes(
    base: str, token: str, n: int, runs: int, pid: int
) -> list[tuple[str, float, float, float, float]]:
    rows = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        for route in ROUTES:
            url = route.format(run=runs // 2)
            for _ in range(5):  # warm-up: caches, first imports
                c.get(url).raise_for_status()
            times = []
            began, cpu = time.perf_counter(), _cpu_s(pid)
            for _ in range(n):
                t0 = time.perf_counter()
                c.get(url).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            rps = n / (time.perf_counter() - began)
            rows.append((route, rps, *_p50_p99(times), (_cpu_s(pid) - cpu) * 1000 / n))
            print(f"measured {route}: p50 {rows[-1][2]:.1f} ms", file=sys.stderr, flush=True)
    return rows


def _overview_ttfb(base: str, n: int) -> tuple[float, float]:
    with httpx.Client(base_url=base, timeout=120) as c:
        form = c.get("/login")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found is not None, "no CSRF field on /login"
        data = {"username": "bench", "password": ADMIN_PASSWORD, "csrf": found.group(1)}
        signed_in = c.post("/login", data=data, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        times = []
        for i in range(n + 3):
            t0 = time.perf_counter()
            with c.stream("GET", "/") as r:
                r.raise_for_status()
                chunks = r.iter_raw()
                next(chunks)
                first = (time.perf_counter() - t0) * 1000
                for _ in chunks:
                    pass
            if i >= 3:
                times.append(first)
    return _p50_p99(times)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p50_p99(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the API did not come up")


if __name__ == "__main__":
    main()
