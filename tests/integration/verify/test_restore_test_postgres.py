"""A restore test of a PostgreSQL data directory, validated by starting a server on it.

The cluster is stopped cleanly before the backup (a cold, file-level
backup). The validation command starts a throw-away server on the restored
files on a free port, runs a query, and stops the server, as
docs/verification.md shows.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.fixtures.net import free_port
from tests.integration.verify.conftest import as_json, text

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)


@pytest.fixture
def cold_cluster() -> Iterator[Path]:
    """A stopped PostgreSQL 15 cluster holding database `app` with 42 orders."""
    base = Path(tempfile.mkdtemp(prefix="drkit-verify-pg-"))
    shutil.chown(base, "postgres")
    data, port = base / "pgdata", free_port()
    try:
        as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        with open(data / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\n")
            conf.write("unix_socket_directories = ''\n")
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "start")
        try:
            psql = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
            as_postgres(*psql, "-c", "create database app")
            as_postgres(
                *psql,
                "-d",
                "app",
                "-c",
                "create table orders as select generate_series(1, 42) as id",
            )
        finally:
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        yield data
    finally:
        shutil.rmtree(base)


def validation(data: Path, port: int, query: str) -> str:
    script = f"""
set -e
D="$DRKIT_RESTORE_DIR{data}"
chown -R postgres "$DRKIT_RESTORE_DIR"
echo "port = {port}" >> "$D/postgresql.auto.conf"
runuser -u postgres -- {PG_BIN}/pg_ctl -D "$D" -l "$DRKIT_RESTORE_DIR/pg.log" -w start >/dev/null
trap 'runuser -u postgres -- {PG_BIN}/pg_ctl -D "$D" -m fast -w stop >/dev/null' EXIT
{PG_BIN}/psql -h 127.0.0.1 -p {port} -U postgres -d app -Atc {shlex.quote(query)}
"""
    return shlex.join(["sh", "-c", script])


@pytest.fixture
def shared_scratch() -> Iterator[Path]:
    """A scratch root the `postgres` user can reach (pytest's tmp_path is root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="drkit-verify-scratch-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def test_a_postgres_data_directory_restores_and_answers_a_query(
    initialized: Runner, cold_cluster: Path, shared_scratch: Path
) -> None:
    initialized("backup", str(cold_cluster)).check()
    scratch = shared_scratch
    port = free_port()

    done = initialized(
        "verify",
        "restore-test",
        "--scratch",
        str(scratch),
        "--validate",
        validation(cold_cluster, port, "select count(*) from orders"),
        "--timeout",
        "2m",
        "--json",
    )

    assert done.returncode == 0, text(done)
    [validate] = [s for s in as_json(done)["steps"] if s["kind"] == "validate"]
    assert validate["ok"] and validate["output_tail"] == "42\n"
    assert list(scratch.iterdir()) == []

    wrong = initialized(
        "verify",
        "restore-test",
        "--scratch",
        str(scratch),
        "--validate",
        validation(cold_cluster, port, "select count(*) from invoices"),
        "--json",
    )
    assert wrong.returncode == 32, text(wrong)
    [validate] = [s for s in as_json(wrong)["steps"] if s["kind"] == "validate"]
    assert 'relation "invoices" does not exist' in validate["output_tail"]
    assert list(scratch.iterdir()) == []
