"""``python3 -m bench.pg_archive``: every archiver at every rate, one table (see the package)."""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import bench.pg_archive as package
from bench.pg_physical.cluster import (
    PASSWORD,
    PG_BIN,
    REPO_ROOT,
    Cluster,
    as_postgres,
    chown_postgres,
    drkit_path,
    let_postgres_run,
    log,
    make_cluster,
)
from bench.results import machine_info

DEFAULT_WORK = REPO_ROOT / "bench" / "work" / "pg_archive"
SEG = 16 * 1024 * 1024
MB = 1_000_000
DRAIN_LIMIT_S = 180


@dataclass
class Point:
    archiver: str
    rate_tps: int  # 0: unthrottled
    wal_mb_s: float
    max_lag_mb: float
    drain_s: float
    caught_up: bool  # every segment of the run reached the repository
    # streaming only (drkit pg receive-wal): WAL not yet received, and the partial
    # segment's age (received, not yet in the repository), sampled every 0.2 s
    stream: dict[str, float] = field(default_factory=dict)


class Archiver:
    name = ""
    slug = ""  # its work folder (archive_command paths stay free of shell characters)

    def __init__(self, work: Path, cluster: Cluster) -> None:
        self.work, self.cluster = work / self.slug, cluster
        self.work.mkdir(parents=True)
        self.sysid = cluster.psql("select system_identifier from pg_control_system()")

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def arrived(self, segment: str) -> bool:
        raise NotImplementedError


class DrkitSync(Archiver):
    name = "drkit wal-push"
    slug = "drkit-sync"

    def __init__(self, work: Path, cluster: Cluster) -> None:
        super().__init__(work, cluster)
        self.repo = self.work / "repo"
        self.pw = self.work / "passphrase"
        self.pw.write_text(PASSWORD + "\n")
        subprocess.run([str(drkit_path()), "--repo", str(self.repo), "init"], check=True,
                       capture_output=True, env=self.env())  # fmt: skip
        chown_postgres(self.work)

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "DRKIT_PASSWORD_FILE": str(self.pw),
                "DRKIT_REPO": str(self.repo), "DRKIT_HOME": str(self.work / "home")}  # fmt: skip

    def command(self, extra: str = "") -> str:
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env().items() if k != "PATH")
        return f"{assigns} {shlex.quote(str(drkit_path()))} wal-push {extra}%p"

    def start(self) -> None:
        self.cluster.set_archive_command(self.command())

    def arrived(self, segment: str) -> bool:
        return (self.repo / "wal" / f"{self.sysid}-{segment}").exists()


class DrkitAsync(DrkitSync):
    name = "drkit async (spool + pusher, 4 workers)"
    slug = "drkit-async"

    def start(self) -> None:
        spool = self.work / "spool"
        spool.mkdir(exist_ok=True)
        chown_postgres(spool)
        self.pusher = subprocess.Popen(
            [str(drkit_path()), "pg", "archive-pusher", "--spool", str(spool), "--workers", "4",
             "--poll", "0.1"], env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.cluster.set_archive_command(self.command(f"--spool {shlex.quote(str(spool))} "))

    def stop(self) -> None:
        self.pusher.terminate()
        self.pusher.wait(timeout=120)


class DrkitStream(DrkitSync):
    name = "drkit pg receive-wal (slot, pusher 4 workers)"
    slug = "drkit-stream"
    synchronous = False

    def start(self) -> None:
        spool, self.folder = self.work / "spool", self.work / "received"
        spool.mkdir(exist_ok=True)
        self.folder.mkdir(exist_ok=True)
        self.cluster.set_archive_command("/bin/true")  # segments come by streaming only
        argv = [str(drkit_path()), "pg", "receive-wal", "--dsn", self.cluster.dsn, "--dir",
                str(self.folder), "--spool", str(spool), "--slot", self.slug.replace("-", "_"),
                "--create-slot", "--workers", "4", "--poll", "0.1"]  # fmt: skip
        if self.synchronous:
            argv.append("--synchronous")
        self.receiver = subprocess.Popen(argv, env=self.env(), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)  # fmt: skip
        while not self._state().get("running"):
            if self.receiver.poll() is not None:
                raise SystemExit(f"pg receive-wal ended ({self.receiver.returncode})")
            time.sleep(0.1)
        self.samples: list[tuple[float, float]] = []
        self._sampling = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _state(self) -> dict[str, object]:
        try:
            return dict(json.loads((self.folder / ".receiver.json").read_text()))
        except (OSError, ValueError):
            return {}

    def _sample(self) -> None:
        while True:
            state = self._state()
            if self._sampling.is_set() and isinstance(state.get("lag_bytes"), int):
                age = state.get("partial_age_s")
                self.samples.append((float(state["lag_bytes"]), float(age or 0.0)))  # type: ignore[arg-type]
            time.sleep(0.2)

    def begin(self) -> None:
        self.samples.clear()
        self._sampling.set()

    def end(self) -> dict[str, float]:
        self._sampling.clear()
        lags = sorted(s[0] for s in self.samples) or [0.0]
        ages = sorted(s[1] for s in self.samples) or [0.0]
        return {"lag_kb_p50": lags[len(lags) // 2] / 1000, "lag_kb_max": lags[-1] / 1000,
                "partial_age_p50_s": ages[len(ages) // 2], "partial_age_max_s": ages[-1],
                "samples": float(len(self.samples))}  # fmt: skip

    def stop(self) -> None:
        self.receiver.terminate()
        self.receiver.wait(timeout=120)
        self.cluster.psql(f"select pg_drop_replication_slot('{self.slug.replace('-', '_')}')")


class DrkitStreamSync(DrkitStream):
    name = "drkit pg receive-wal --synchronous (slot, pusher 4 workers)"
    slug = "drkit-stream-sync"
    synchronous = True


class PgBackRest(Archiver):
    name = "pgBackRest archive-push (async, process-max 4)"
    slug = "pgbackrest-async"
    asynchronous = True

    def __init__(self, work: Path, cluster: Cluster) -> None:
        super().__init__(work, cluster)
        self.repo = self.work / "repo"
        self.conf = self.work / "pgbackrest.conf"
        sock = cluster.datadir.parent / "sock"
        self.conf.write_text(
            f"[global]\nrepo1-path={self.repo}\nlog-path={self.work / 'log'}\n"
            f"lock-path={self.work / 'lock'}\nspool-path={self.work / 'spool'}\n"
            f"archive-async={'y' if self.asynchronous else 'n'}\nprocess-max=4\n"
            "compress-type=zst\nlog-level-console=warn\n"
            f"[bench]\npg1-path={cluster.datadir}\npg1-port={cluster.port}\n"
            f"pg1-socket-path={sock}\n"
        )
        chown_postgres(self.work)

    def start(self) -> None:
        as_postgres("pgbackrest", f"--config={self.conf}", "--stanza=bench", "stanza-create")
        self.cluster.set_archive_command(
            f"pgbackrest --config={self.conf} --stanza=bench archive-push %p"
        )

    def arrived(self, segment: str) -> bool:
        return any(self.repo.glob(f"archive/bench/*/{segment[:16]}/{segment}-*"))


class PgBackRestSync(PgBackRest):
    name = "pgBackRest archive-push (sync)"
    slug = "pgbackrest-sync"
    asynchronous = False


def segno(name: str) -> int:
    return int(name[8:16], 16) * 256 + int(name[16:24], 16)


def name_of(tli: str, n: int) -> str:
    return f"{tli}{n // 256:08X}{n % 256:08X}"


BULK_SCRIPT = "insert into bulk select g, repeat('x', 500) from generate_series(1, {rows}) g;\n"


def measure(archiver: Archiver, rate: int, seconds: int, clients: int, script: Path) -> Point:
    c = archiver.cluster
    c.psql("truncate bulk")
    start_lsn = c.psql("select pg_current_wal_lsn()")
    first = c.psql("select pg_walfile_name(pg_current_wal_lsn())")
    tli = first[:8]
    argv = [str(PG_BIN / "pgbench"), "-n", "-c", str(clients), "-j", str(clients),
            "-T", str(seconds), "-f", str(script), *(["-R", str(rate)] if rate else []),
            c.dsn]  # fmt: skip
    streaming = archiver if isinstance(archiver, DrkitStream) else None
    if streaming is not None:
        streaming.begin()
    bench = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began, max_lag, arrived = time.monotonic(), 0, segno(first) - 1
    while bench.poll() is None:
        current = segno(c.psql("select pg_walfile_name(pg_current_wal_lsn())"))
        while arrived + 1 < current and archiver.arrived(name_of(tli, arrived + 1)):
            arrived += 1
        max_lag = max(max_lag, current - 1 - arrived)
        time.sleep(0.5)
    elapsed = time.monotonic() - began
    stream = streaming.end() if streaming is not None else {}
    wal = int(c.psql(f"select pg_current_wal_lsn() - '{start_lsn}'::pg_lsn"))
    last = c.psql("select pg_walfile_name(pg_switch_wal())")
    ended, deadline = time.monotonic(), time.monotonic() + DRAIN_LIMIT_S
    while not archiver.arrived(last) and time.monotonic() < deadline:
        time.sleep(0.1)
    caught = archiver.arrived(last)
    return Point(archiver.name, rate, wal / MB / elapsed, max_lag * SEG / MB,
                 time.monotonic() - ended, caught, stream)  # fmt: skip


def render(points: list[Point], meta: dict[str, object]) -> str:
    lines = [
        f"pgbench -f (insert of {meta['rows']} rows of 500 bytes per transaction), "
        f"{meta['clients']} clients, {meta['seconds']} s per rate, "
        f"synchronous_commit {meta['synchronous_commit']}, one run; "
        "lag = closed segments not yet in the repository",
        "",
        "| archiver | pgbench rate | WAL generated | max archive lag | drain after the run |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for p in points:
        rate = f"{p.rate_tps} tx/s" if p.rate_tps else "unthrottled"
        drain = f"{p.drain_s:.1f} s" if p.caught_up else f"not within {DRAIN_LIMIT_S} s"
        lines.append(
            f"| {p.archiver} | {rate} | {p.wal_mb_s:.1f} MB/s | {p.max_lag_mb:.0f} MB | {drain} |"
        )
    streamed = [p for p in points if p.stream]
    if streamed:
        lines += [
            "",
            "streaming: WAL written on the server and not yet received by pg_receivewal "
            "(pg_stat_replication), and the age of the partial segment (received, not yet "
            "in the repository), sampled every 0.2 s while pgbench ran",
            "",
            "| receiver | pgbench rate | WAL generated | receive lag p50 / max | "
            "partial segment age p50 / max |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for p in streamed:
            rate = f"{p.rate_tps} tx/s" if p.rate_tps else "unthrottled"
            s = p.stream
            lines.append(
                f"| {p.archiver} | {rate} | {p.wal_mb_s:.1f} MB/s | "
                f"{s['lag_kb_p50']:.0f} kB / {s['lag_kb_max']:.0f} kB | "
                f"{s['partial_age_p50_s']:.1f} s / {s['partial_age_max_s']:.1f} s |"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m bench.pg_archive",
                                description=(package.__doc__ or "").split("\n")[0])  # fmt: skip
    p.add_argument("--scale", type=int, default=10)
    p.add_argument(
        "--rates", default="2,5,10,20,0", help="pgbench -R values (tx/s); 0: unthrottled"
    )
    p.add_argument(
        "--rows", type=int, default=2000, help="rows of ~500 bytes per transaction (~1.1 MB WAL)"
    )
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--clients", type=int, default=2)
    p.add_argument(
        "--async-commit",
        action="store_true",
        help="synchronous_commit = off: pgbench is not bound by commit flushes, makes more WAL",
    )
    p.add_argument("--archivers", default="drkit-sync,drkit-async,pgbackrest-sync,pgbackrest")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--output", type=Path)
    p.add_argument("--markdown", type=Path)
    return p.parse_args(argv)


KINDS: dict[str, type[Archiver]] = {
    "drkit-sync": DrkitSync,
    "drkit-async": DrkitAsync,
    "pgbackrest-sync": PgBackRestSync,
    "pgbackrest": PgBackRest,
    "drkit-stream": DrkitStream,
    "drkit-stream-sync": DrkitStreamSync,
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "pgbackrest" in args.archivers and shutil.which("pgbackrest") is None:
        raise SystemExit("pgbackrest is missing: apt-get install pgbackrest")
    let_postgres_run(drkit_path())
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    chown_postgres(args.work)
    cluster = make_cluster(args.work, args.scale)
    if args.async_commit:
        cluster.psql("alter system set synchronous_commit = off")
        cluster.psql("select pg_reload_conf()")
    cluster.psql("create table bulk (id int, pad text)")
    script = args.work / "bulk.sql"
    script.write_text(BULK_SCRIPT.format(rows=args.rows))
    points: list[Point] = []
    try:
        for kind in args.archivers.split(","):
            archiver = KINDS[kind](args.work, cluster)
            archiver.start()
            try:
                for rate in (int(r) for r in args.rates.split(",")):
                    log(f"{archiver.name} at {rate or 'unthrottled'} tps")
                    points.append(measure(archiver, rate, args.seconds, args.clients, script))
                    log(str(points[-1]))
            finally:
                archiver.stop()
                cluster.set_archive_command("/bin/true")
    finally:
        cluster.pg_ctl("-m", "fast", "stop")
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "clients": args.clients,
        "rows": args.rows,
        "seconds": args.seconds,
        "synchronous_commit": "off" if args.async_commit else "on",
        "machine": machine_info(),
    }
    table = render(points, meta)
    print(table)
    if args.output:
        doc = {"meta": meta, "points": [asdict(p) for p in points]}
        args.output.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    if args.markdown:
        args.markdown.write_text(table)
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
