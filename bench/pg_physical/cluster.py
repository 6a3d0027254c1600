"""A private PostgreSQL 15 cluster for the physical benchmark, run as ``postgres``."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORK = REPO_ROOT / "bench" / "work" / "pg_physical"
DRKIT = REPO_ROOT / ".venv" / "bin" / "drkit"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "bench-pg-physical-passphrase"
MiB = 1024 * 1024


def log(message: str) -> None:
    print(f"[bench.pg_physical] {message}", file=sys.stderr, flush=True)


def drkit_path() -> Path:
    if not DRKIT.exists():
        raise SystemExit(f"{DRKIT} is missing: create the project venv (uv sync)")
    return DRKIT


def as_postgres(*argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stdout}{done.stderr}")
    return done.stdout


def chown_postgres(path: Path) -> None:
    pw = pwd.getpwnam("postgres")
    for root, dirs, files in os.walk(path):
        for name in [".", *dirs, *files]:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    datadir: Path
    port: int
    env: dict[str, str]

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def psql(self, sql: str) -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), self.dsn, "-XAtqc", sql],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def pg_ctl(self, *args: str) -> None:
        as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir.with_suffix(".log")),
            *args,
            env=self.env,
        )

    def set_archive_command(self, command: str) -> None:
        self.psql(f"alter system set archive_command = '{command.replace(chr(39), chr(39) * 2)}'")
        self.psql("select pg_reload_conf()")
        time.sleep(0.5)


def server_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(HOME=str(work), DRKIT_HOME=str(work / "drkit-home"), PGTZ="UTC")
    return env


def make_cluster(work: Path, scale: int) -> Cluster:
    datadir = work / "cluster"
    env = server_env(work)
    as_postgres(
        str(PG_BIN / "initdb"),
        "-D",
        str(datadir),
        "-U",
        "postgres",
        "-A",
        "trust",
        "--no-sync",
        env=env,
    )
    sock = work / "sock"
    sock.mkdir()
    chown_postgres(sock)
    with open(datadir / "postgresql.conf", "a") as fh:
        fh.write(
            f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{sock}'\n"
            "wal_level = replica\narchive_mode = on\narchive_command = '/bin/true'\n"
            "max_wal_size = '4GB'\nshared_buffers = '256MB'\n"
        )
    cluster = Cluster(datadir, free_port(), env)
    cluster.pg_ctl("-o", f"-p {cluster.port}", "-w", "start")
    log(f"pgbench -i -s {scale} (untimed)")
    subprocess.run(
        [str(PG_BIN / "pgbench"), "-i", "-q", "-s", str(scale), cluster.dsn],
        check=True,
        capture_output=True,
    )
    cluster.psql("checkpoint")
    return cluster


def let_postgres_run(script: Path) -> None:
    """PostgreSQL runs archive_command as postgres: give the interpreter's folders o+x."""
    for target in (Path(os.path.realpath(sys.executable)), script):
        for folder in reversed(target.parents):
            mode = folder.stat().st_mode
            if not mode & 0o001:
                log(f"chmod o+x {folder} (postgres must run {script})")
                folder.chmod(mode | 0o001)


def copy_segments(cluster: Cluster, folder: Path, count: int) -> list[Path]:
    """``count`` full segments of real pgbench WAL, copied out of pg_wal."""
    folder.mkdir(parents=True)
    subprocess.run(
        [str(PG_BIN / "pgbench"), "-n", "-T", "5", "-c", "2", cluster.dsn],
        check=True,
        capture_output=True,
    )
    names = []
    for _ in range(count):
        cluster.psql("insert into pgbench_history select * from pgbench_history limit 20000")
        names.append(cluster.psql("select pg_walfile_name(pg_switch_wal())"))
    out = []
    for name in names:
        target = folder / name
        shutil.copyfile(cluster.datadir / "pg_wal" / name, target)
        out.append(target)
    return out


def verify(datadir: Path) -> bool:
    """Every file against the backup manifest (drkit's recovery settings left aside)."""
    ignore = ["-i", "postgresql.auto.conf", "-i", "recovery.signal", "-i", "drkit-recovery.pass"]
    done = subprocess.run(
        [str(PG_BIN / "pg_verifybackup"), "-n", "-q", *ignore, str(datadir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        log(f"pg_verifybackup {datadir}: {done.stdout}{done.stderr}")
    return done.returncode == 0
