"""Logical PostgreSQL benchmark: ``drkit db`` against ``pg_dump -Fc`` to a file + restic.

Run from the repository root, with PostgreSQL reachable at 127.0.0.1:5432 as
``postgres`` (trust) and pgbench and restic installed::

    python3 -m bench.db [--scale 50] [--repeat 1] [--work bench/work/db]
                        [--output FILE.json] [--markdown FILE.md] [--keep]

For every repetition a scratch database is filled by ``pgbench -i -s SCALE``
(untimed), then each side is measured (odd repetitions drkit first, even ones
the baseline first):

- **drkit**: ``drkit init``; ``drkit db backup postgresql://.../DB`` (pg_dump's
  custom format streamed into the repository, no file); the same again with
  nothing changed; ``drkit db restore latest --to postgresql://.../NEW`` (the
  database is created, then ``pg_restore --single-transaction`` is fed from the
  repository).
- **baseline**: ``restic init``; ``pg_dump -Fc -f DUMP`` then
  ``restic backup DUMP`` (their times added up); the same again; ``restic
  restore latest`` then ``createdb NEW`` and ``pg_restore -d NEW DUMP``.

Both restored databases are compared with the source, table by table (row
count and the sum of a hash of every row); any difference, or any failing
command, makes the exit status 1. Wall time, CPU time and peak RSS of every
command come from ``bench/measure.py`` (``bench/launch.py``), as in the other
benchmarks. Scratch databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import CommandResult, disk_usage, log_tail, run_measured
from bench.results import machine_info
from bench.tools import FOREIGN_SETTINGS, RESTIC_REPO_VERSION

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = REPO_ROOT / "bench" / "work" / "db"
DRKIT = REPO_ROOT / ".venv" / "bin" / "drkit"
PG = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "bench-db-passphrase"
STEPS = ("init", "backup", "backup-unchanged", "restore")

# Per table: rows and the sum of a 32-bit hash of each row's text: cheap on millions of rows.
CHECKSUM = """
select format('%I.%I', schemaname, tablename) from pg_tables
where schemaname not in ('pg_catalog', 'information_schema') order by 1
"""


def log(message: str) -> None:
    print(f"[bench.db] {message}", file=sys.stderr, flush=True)


def psql(db: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", f"{PG}/{db}", "-XAtqc", sql], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def checksums(db: str) -> dict[str, str]:
    tables = psql(db, CHECKSUM).splitlines()
    return {
        t: psql(db, f"select count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) from {t} x")
        for t in tables
    }


def drop(db: str) -> None:
    psql("postgres", f'drop database if exists "{db}" with (force)')


@dataclass
class Side:
    """One tool's measured steps in one repetition (several commands may add up to a step)."""

    steps: dict[str, list[CommandResult]] = field(default_factory=dict)
    repo_bytes: dict[str, int] = field(default_factory=dict)
    verified: bool = False

    def add(self, step: str, result: CommandResult) -> None:
        self.steps.setdefault(step, []).append(result)
        if not result.ok:
            raise RuntimeError(f"{' '.join(result.argv)} failed:\n{log_tail(result.log)}")

    def wall(self, step: str) -> float:
        return sum(r.wall_s for r in self.steps.get(step, []))

    def cpu(self, step: str) -> float:
        return sum(r.user_s + r.sys_s for r in self.steps.get(step, []))

    def rss_mib(self, step: str) -> float:
        return max((r.max_rss_mib for r in self.steps.get(step, [])), default=0.0)


class Repetition:
    def __init__(self, work: Path, index: int, source: str) -> None:
        self.work, self.index, self.source = work / f"rep{index}", index, source
        self.created: list[str] = []

    def run(self, cmd: list[str], side: Side, step: str, env: dict[str, str], cwd: Path) -> None:
        name = f"{step}-{len(side.steps.get(step, []))}-{Path(cmd[0]).name}"
        side.add(step, run_measured(cmd, cwd=cwd, env=env, log_path=self.work / "logs" / name))

    def env(self, tool: str) -> dict[str, str]:
        import os

        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
        base = self.work / tool
        env.update(
            DRKIT_PASSWORD=PASSWORD,
            DRKIT_CACHE_DIR=str(base / "cache"),
            DRKIT_HOME=str(base / "home"),
            RESTIC_PASSWORD=PASSWORD,
            RESTIC_CACHE_DIR=str(base / "cache"),
            XDG_CACHE_HOME=str(base / "cache"),
        )
        return env

    def new_db(self) -> str:
        self.created.append(f"bench_restored_{secrets.token_hex(4)}")
        return self.created[-1]

    def drkit(self) -> Side:
        side, env, base = Side(), self.env("drkit"), self.work / "drkit"
        base.mkdir(parents=True)
        repo = ["--repo", str(base / "repo")]
        self.run([str(DRKIT), *repo, "init"], side, "init", env, base)
        for step in ("backup", "backup-unchanged"):
            self.run([str(DRKIT), *repo, "db", "backup", f"{PG}/{self.source}", "--quiet"],
                     side, step, env, base)  # fmt: skip
            side.repo_bytes[step] = disk_usage(base / "repo").allocated_bytes
        target = self.new_db()
        self.run([str(DRKIT), *repo, "db", "restore", "latest", "--to", f"{PG}/{target}",
                  "--quiet"], side, "restore", env, base)  # fmt: skip
        side.verified = checksums(target) == checksums(self.source)
        return side

    def baseline(self) -> Side:
        side, env, base = Side(), self.env("restic"), self.work / "restic"
        (base / "dump").mkdir(parents=True)
        repo = ["restic", "--repo", str(base / "repo")]
        dump = base / "dump" / "app.dump"
        self.run([*repo, "init", "--repository-version", RESTIC_REPO_VERSION], side, "init",
                 env, base)  # fmt: skip
        for step in ("backup", "backup-unchanged"):
            self.run(["pg_dump", "-Fc", "-f", str(dump), f"{PG}/{self.source}"], side, step,
                     env, base)  # fmt: skip
            self.run([*repo, "backup", "--quiet", "dump"], side, step, env, base)
            side.repo_bytes[step] = disk_usage(base / "repo").allocated_bytes
        side.repo_bytes["dump-file"] = dump.stat().st_size
        shutil.rmtree(base / "dump")
        target, out = self.new_db(), base / "restored"
        self.run([*repo, "restore", "latest", "--target", str(out), "--quiet"], side, "restore",
                 env, base)  # fmt: skip
        self.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", target], side, "restore",
                 env, base)  # fmt: skip
        self.run(["pg_restore", "-d", f"{PG}/{target}", str(out / "dump" / "app.dump")],
                 side, "restore", env, base)  # fmt: skip
        side.verified = checksums(target) == checksums(self.source)
        return side

    def execute(self) -> dict[str, Side]:
        order = ("drkit", "baseline") if self.index % 2 == 1 else ("baseline", "drkit")
        try:
            return {name: getattr(self, name)() for name in order}
        finally:
            for db in self.created:
                drop(db)


def summarise(reps: list[dict[str, Side]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for tool in ("drkit", "baseline"):
        sides = [r[tool] for r in reps]
        row: dict[str, float] = {}
        for step in STEPS:
            row[f"{step}.wall"] = statistics.median(s.wall(step) for s in sides)
            row[f"{step}.cpu"] = statistics.median(s.cpu(step) for s in sides)
            row[f"{step}.rss"] = statistics.median(s.rss_mib(step) for s in sides)
        for key in sides[0].repo_bytes:
            row[f"size.{key}"] = statistics.median(s.repo_bytes[key] for s in sides)
        out[tool] = row
    return out


def render(summary: dict[str, dict[str, float]], meta: dict[str, object]) -> str:
    d, b = summary["drkit"], summary["baseline"]
    lines = [
        f"pgbench scale {meta['scale']}, {meta['repeat']} repetition(s), medians; "
        f"source database {meta['db_size']}",
        "",
        "| step | drkit `db` | pg_dump -Fc + restic | drkit / baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step in ("backup", "backup-unchanged", "restore"):
        for kind, unit in (("wall", "s"), ("cpu", "s"), ("rss", "MiB")):
            key = f"{step}.{kind}"
            ratio = d[key] / b[key] if b[key] else 0.0
            label = {"wall": "wall time", "cpu": "CPU (user+sys)", "rss": "peak RSS"}[kind]
            lines.append(f"| {step}, {label} | {d[key]:.1f} {unit} | {b[key]:.1f} {unit} "
                         f"| {ratio:.2f}x |")  # fmt: skip
    mib = 1024 * 1024
    for key in ("backup", "backup-unchanged"):
        lines.append(
            f"| repository after {key} | {d[f'size.{key}'] / mib:.0f} MiB "
            f"| {b[f'size.{key}'] / mib:.0f} MiB | {d[f'size.{key}'] / b[f'size.{key}']:.2f}x |"
        )
    lines.append(f"| temporary dump file | none | {b['size.dump-file'] / mib:.0f} MiB | |")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m bench.db", description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=int, default=50, help="pgbench scale factor (50: ~750 MiB)")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--output", type=Path, help="write the results as JSON")
    p.add_argument("--markdown", type=Path, help="write the table as Markdown")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source = f"bench_source_{secrets.token_hex(4)}"
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    psql("postgres", f'create database "{source}"')
    reps: list[dict[str, Side]] = []
    try:
        log(f"pgbench -i -s {args.scale} into {source} (untimed)")
        subprocess.run(["pgbench", "-i", "-q", "-s", str(args.scale), f"{PG}/{source}"],
                       check=True, capture_output=True)  # fmt: skip
        db_size = psql("postgres", f"select pg_size_pretty(pg_database_size('{source}'))")
        for i in range(1, args.repeat + 1):
            log(f"repetition {i}/{args.repeat}")
            reps.append(Repetition(args.work, i, source).execute())
    finally:
        drop(source)
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "repeat": args.repeat,
        "db_size": db_size,
        "machine": machine_info(),
        "commit": _commit(),
    }
    summary = summarise(reps)
    table = render(summary, meta)
    print(table)
    verified = all(side.verified for rep in reps for side in rep.values())
    if args.output:
        doc = {"meta": meta, "summary": summary, "verified": verified,
               "repetitions": [{k: asdict(v) for k, v in r.items()} for r in reps]}  # fmt: skip
        args.output.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    if args.markdown:
        args.markdown.write_text(table)
    if not verified:
        log("a restored database differs from the source")
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
