"""``python3 -m bench.pg_physical``: run both sides, print the tables (see the package doc)."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import bench.pg_physical as package
from bench.db import Side
from bench.pg_physical.cluster import (
    DEFAULT_WORK,
    PG_BIN,
    MiB,
    chown_postgres,
    drkit_path,
    let_postgres_run,
    log,
    make_cluster,
)
from bench.pg_physical.sides import Bench
from bench.results import machine_info


def render(b: Bench, meta: dict[str, object]) -> str:
    d, r = b.sides["drkit"], b.sides["baseline"]
    lines = [
        f"pgbench scale {meta['scale']}, cluster {meta['cluster_size']}, one run",
        "",
        "| step | drkit `pg basebackup` | pg_basebackup -Ft + restic | drkit / baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step in ("backup", "backup-unchanged", "restore"):
        for label, get, unit in (
            ("wall time", Side.wall, "s"),
            ("CPU (user+sys)", Side.cpu, "s"),
            ("peak RSS", Side.rss_mib, "MiB"),
        ):
            x, y = get(d, step), get(r, step)
            lines.append(
                f"| {step}, {label} | {x:.1f} {unit} | {y:.1f} {unit} | {x / y if y else 0:.2f}x |"
            )
    for key in ("backup", "backup-unchanged"):
        x, y = d.repo_bytes[key], r.repo_bytes[key]
        lines.append(
            f"| repository after {key} | {x / MiB:.0f} MiB | {y / MiB:.0f} MiB | {x / y:.2f}x |"
        )
    lines.append(
        f"| temporary copy of the cluster | none | {r.repo_bytes['tar-files'] / MiB:.0f} MiB | |"
    )
    lines += [
        "",
        "| per WAL file (16 MiB, one process each) | p50 wall | p95 wall | p50 CPU | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, results in b.latency.items():
        walls = sorted(x.wall_s for x in results)
        cpus = sorted(x.user_s + x.sys_s for x in results)
        p95 = walls[min(len(walls) - 1, int(0.95 * len(walls)))]
        lines.append(
            f"| `drkit {name if name != 'startup' else '--version'}` | "
            f"{statistics.median(walls) * 1000:.0f} ms | {p95 * 1000:.0f} ms | "
            f"{statistics.median(cpus) * 1000:.0f} ms | "
            f"{max(x.max_rss_mib for x in results):.0f} MiB |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python3 -m bench.pg_physical", description=(package.__doc__ or "").split("\n")[0]
    )
    p.add_argument("--scale", type=int, default=50, help="pgbench scale factor (50: ~750 MiB)")
    p.add_argument("--segments", type=int, default=20, help="WAL files for the latency")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--output", type=Path, help="write the results as JSON")
    p.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    let_postgres_run(drkit_path())
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    chown_postgres(args.work)
    cluster = make_cluster(args.work, args.scale)
    try:
        size = cluster.psql("select pg_size_pretty(sum(pg_database_size(oid))) from pg_database")
        bench = Bench(args.work, cluster)
        for name in ("drkit", "baseline"):
            log(name)
            bench.sides[name] = getattr(bench, name)()
        log(f"wal-push / wal-fetch latency on {args.segments} segments")
        bench.wal_latency(args.segments)
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(cluster.datadir),
                "-m",
                "fast",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "cluster_size": size,
        "machine": machine_info(),
    }
    table = render(bench, meta)
    print(table)
    verified = all(s.verified for s in bench.sides.values())
    if args.output:
        latency = {k: [asdict(x) for x in v] for k, v in bench.latency.items()}
        sides = {k: asdict(v) for k, v in bench.sides.items()}
        doc = {"meta": meta, "verified": verified, "sides": sides, "latency": latency}
        args.output.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    if args.markdown:
        args.markdown.write_text(table)
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)
    if not verified:
        log("pg_verifybackup found a difference in a restored directory")
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
