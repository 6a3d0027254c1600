"""The measured sides: drkit (base backup + WAL archive) and pg_basebackup + restic,
and the per-file latency of ``drkit wal-push`` and ``wal-fetch``."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bench.db import Side
from bench.measure import CommandResult, disk_usage, run_measured
from bench.pg_physical.cluster import (
    PASSWORD,
    PG_BIN,
    Cluster,
    chown_postgres,
    copy_segments,
    drkit_path,
    verify,
)
from bench.tools import FOREIGN_SETTINGS, RESTIC_REPO_VERSION


@dataclass
class Bench:
    work: Path
    cluster: Cluster
    sides: dict[str, Side] = field(default_factory=dict)
    latency: dict[str, list[CommandResult]] = field(default_factory=dict)

    def env(self, tool: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
        base = self.work / tool
        cache = str(base / "cache")
        env.update(
            DRKIT_PASSWORD=PASSWORD,
            DRKIT_CACHE_DIR=cache,
            DRKIT_HOME=str(base / "home"),
            RESTIC_PASSWORD=PASSWORD,
            RESTIC_CACHE_DIR=cache,
            XDG_CACHE_HOME=cache,
        )
        return env

    def run(self, cmd: list[str], side: Side, step: str, env: dict[str, str], cwd: Path) -> None:
        name = f"{step}-{len(side.steps.get(step, []))}-{Path(cmd[0]).name}"
        side.add(step, run_measured(cmd, cwd=cwd, env=env, log_path=self.work / "logs" / name))

    def drkit(self) -> Side:
        side, env, base = Side(), self.env("drkit"), self.work / "drkit"
        base.mkdir(parents=True)
        repo = base / "repo"
        drkit = [str(drkit_path()), "--repo", str(repo)]
        self.run([*drkit, "init"], side, "init", env, base)
        pw = base / "passphrase"
        pw.write_text(PASSWORD + "\n")
        chown_postgres(base)
        push = (
            f"DRKIT_REPO={shlex.quote(str(repo))} DRKIT_PASSWORD_FILE={shlex.quote(str(pw))} "
            f"{shlex.quote(str(drkit_path()))} wal-push %p"
        )
        self.cluster.set_archive_command(push)
        for step in ("backup", "backup-unchanged"):
            self.run(
                [*drkit, "pg", "basebackup", "--dsn", self.cluster.dsn, "--quiet"],
                side,
                step,
                env,
                base,
            )
            side.repo_bytes[step] = disk_usage(repo).allocated_bytes
        target = base / "restored"
        self.run(
            [*drkit, "pg", "restore", "--to", str(target), "--latest", "--quiet"],
            side,
            "restore",
            env,
            base,
        )
        side.verified = verify(target)
        self.cluster.set_archive_command("/bin/true")
        return side

    def baseline(self) -> Side:
        side, env, base = Side(), self.env("restic"), self.work / "restic"
        base.mkdir(parents=True)
        restic = ["restic", "--repo", str(base / "repo")]
        self.run(
            [*restic, "init", "--repository-version", RESTIC_REPO_VERSION], side, "init", env, base
        )
        for step in ("backup", "backup-unchanged"):
            shutil.rmtree(base / "pgdata", ignore_errors=True)
            self.run(
                [
                    str(PG_BIN / "pg_basebackup"),
                    "-d",
                    self.cluster.dsn,
                    "-D",
                    "pgdata",
                    "-Ft",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ],
                side,
                step,
                env,
                base,
            )
            self.run([*restic, "backup", "--quiet", "pgdata"], side, step, env, base)
            side.repo_bytes[step] = disk_usage(base / "repo").allocated_bytes
        side.repo_bytes["tar-files"] = disk_usage(base / "pgdata").allocated_bytes
        shutil.rmtree(base / "pgdata")
        out, target = base / "restored-tar", base / "restored"
        self.run(
            [*restic, "restore", "latest", "--target", str(out), "--quiet"],
            side,
            "restore",
            env,
            base,
        )
        target.mkdir()
        self.run(
            ["tar", "-xf", str(out / "pgdata" / "base.tar"), "-C", str(target)],
            side,
            "restore",
            env,
            base,
        )
        self.run(
            ["tar", "-xf", str(out / "pgdata" / "pg_wal.tar"), "-C", str(target / "pg_wal")],
            side,
            "restore",
            env,
            base,
        )
        shutil.copyfile(out / "pgdata" / "backup_manifest", target / "backup_manifest")
        side.verified = verify(target)
        return side

    def wal_latency(self, count: int) -> None:
        """Time wal-push (and wal-fetch) on real segments, one process each."""
        base = self.work / "wal"
        segments = copy_segments(self.cluster, base / "segments", count)
        env = self.env("wal")
        drkit = [str(drkit_path()), "--repo", str(base / "repo")]
        run_measured([*drkit, "init"], cwd=base, env=env, log_path=base / "init.log")
        for results, argv in (
            (
                self.latency.setdefault("wal-push", []),
                lambda s: ["wal-push", str(s), "--pgdata", str(self.cluster.datadir)],
            ),
            (
                self.latency.setdefault("wal-fetch", []),
                lambda s: [
                    "wal-fetch",
                    s.name,
                    str(base / "fetched"),
                    "--pgdata",
                    str(self.cluster.datadir),
                ],
            ),
        ):
            for seg in segments:
                r = run_measured(
                    [*drkit, *argv(seg)], cwd=base, env=env, log_path=base / "logs" / seg.name
                )
                if not r.ok:
                    raise RuntimeError(f"{' '.join(r.argv)} failed: {r.log}")
                results.append(r)
        startup = self.latency.setdefault("startup", [])
        for _ in range(count):
            startup.append(
                run_measured(
                    [str(drkit_path()), "--version"],
                    cwd=base,
                    env=env,
                    log_path=base / "logs" / "version",
                )
            )
