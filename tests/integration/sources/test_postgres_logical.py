"""PostgreSQL logical backups against the machine's real server: round trip and faults."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.sources.base import BackupRequest
from drkit.sources.errors import DumpFailed
from drkit.sources.registry import parse_source, source_for
from drkit.storage.local import LocalBackend
from tests.conftest import Runner
from tests.fixtures.databases import (
    free_port,
    pg_checksums,
    pg_create,
    pg_dsn,
    pg_exec,
    pg_names_fixture,  # noqa: F401  (the pg_names fixture)
)

SCHEMA = (
    "create table customers (id serial primary key, name text not null, data jsonb, "
    "photo bytea, created timestamptz default now())",
    "create table orders (id bigint primary key, customer int references customers, "
    "amount numeric(12,2), note text)",
    "create view big_orders as select * from orders where amount > 100",
    "create function order_total(c int) returns numeric language sql as "
    "$$ select coalesce(sum(amount), 0) from orders where customer = c $$",
    "insert into customers (name, data, photo) select 'c' || g, "
    "jsonb_build_object('n', g, 'tags', array['a', 'b']), decode(md5(g::text), 'hex') "
    "from generate_series(1, 2000) g",
    "insert into orders select g, 1 + g % 2000, (g % 997) * 1.5, repeat(md5(g::text), 8) "
    "from generate_series(1, 60000) g",
)


def _fill(dsn: str) -> None:
    pg_exec(dsn, *SCHEMA)


def test_backup_and_restore_round_trip_through_the_cli(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    source = pg_create(pg_names())
    _fill(source)
    done = initialized("db", "backup", source, "--tag", "nightly", "--json").check()
    doc = json.loads(done.stdout)
    assert doc["meta"]["source.type"] == "postgres"
    assert doc["bytes"] > 1_000_000

    listing = json.loads(initialized("db", "list", "--json").check().stdout)
    assert [s["id"] for s in listing] == [doc["snapshot"]]
    assert listing[0]["tags"] == ["nightly"] and listing[0]["type"] == "postgres"

    target = pg_dsn(pg_names())  # does not exist yet: restore creates it
    restored = json.loads(
        initialized("db", "restore", "latest", "--to", target, "--json").check().stdout
    )
    assert restored["created"] is True
    assert pg_checksums(target) == pg_checksums(source)
    assert set(pg_checksums(target)) == {"public.customers", "public.orders"}
    check = initialized("check", "--read-data")
    assert check.returncode == 0, check.stderr


def test_restore_keeps_views_functions_and_sequences(
    tmp_path: Path, pg_names: Callable[[], str]
) -> None:
    import psycopg

    source = pg_create(pg_names())
    _fill(source)
    repo = Repository.init(LocalBackend(tmp_path / "repo"), "pw")
    [snap] = source_for(parse_source(source)).backup(BackupRequest([repo]))
    from drkit.sources.base import RestoreRequest
    from drkit.sources.run import restore_snapshot

    target = pg_dsn(pg_names())
    restore_snapshot(RestoreRequest(repo, snap, target))
    with psycopg.connect(target) as conn:
        assert conn.execute("select count(*) from big_orders").fetchone() == (
            conn.execute("select count(*) from orders where amount > 100").fetchone()
        )
        assert conn.execute("select order_total(7)").fetchone() is not None
        # the sequence continues after the restored rows instead of colliding with them
        conn.execute("insert into customers (name) values ('new')")
        row = conn.execute("select max(id) from customers").fetchone()
        assert row == (2001,)


def test_a_restore_into_a_non_empty_database_is_refused_without_force(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    source = pg_create(pg_names())
    _fill(source)
    initialized("db", "backup", source).check()
    target = pg_create(pg_names())
    pg_exec(target, "create table keep_me (x int)")
    refused = initialized("db", "restore", "latest", "--to", target)
    assert refused.returncode == 22, refused.stderr
    assert "already holds 1 object(s)" in refused.stderr and "--force" in refused.stderr
    assert pg_checksums(target) == {"public.keep_me": (0, "")}

    initialized("db", "restore", "latest", "--to", target, "--force").check()
    restored = pg_checksums(target)
    assert restored["public.orders"] == pg_checksums(source)["public.orders"]


def test_a_second_backup_of_an_unchanged_database_adds_little(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    source = pg_create(pg_names())
    _fill(source)
    first = json.loads(initialized("db", "backup", source, "--json").check().stdout)
    second = json.loads(initialized("db", "backup", source, "--json").check().stdout)
    assert second["added"][0] < first["added"][0] / 4  # the dump deduplicates


def test_a_database_that_is_down_is_a_clear_error_and_saves_nothing(
    initialized: Runner,
) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/app"
    failed = initialized("db", "backup", dsn)
    assert failed.returncode == 20, failed.stderr
    assert "cannot connect to PostgreSQL" in failed.stderr and "hint:" in failed.stderr
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


def test_a_table_the_dump_cannot_read_fails_the_backup_naming_pg_dump_stderr(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    name = pg_names()
    source = pg_create(name)
    role = f"{name}_reader"
    _fill(source)
    pg_exec(
        source,
        f"create role {role} login",
        f"grant select on customers, orders to {role}",
        "create table secrets (x text)",
        "revoke all on secrets from public",
    )
    try:
        dsn = f"postgresql://{role}@127.0.0.1:5432/{name}"
        failed = initialized("db", "backup", dsn)
        assert failed.returncode == 21, failed.stderr
        assert "pg_dump failed" in failed.stderr
        assert "permission denied for table secrets" in failed.stderr
        assert json.loads(initialized("snapshots", "--json").check().stdout) == []
    finally:
        pg_exec(pg_dsn("postgres"), f"drop database if exists {name} with (force)",
                f"drop role if exists {role}")  # fmt: skip


class _KillDumpAfter(Progress):
    """Kills the running pg_dump once this many bytes went into the repository."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.killed = limit, False

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        if not self.killed and self.bytes >= self.limit:
            # flag first: the backup may see pg_dump die (and the test resume)
            # before this thread runs again after the kill
            self.killed = True
            self.killed = _kill_child("pg_dump")


def _kill_child(name: str) -> bool:
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if stat.split("(", 1)[1].startswith(name) and fields[1] == me:
            os.kill(int(pid), signal.SIGKILL)
            return True
    return False


def test_a_dump_killed_mid_stream_records_no_snapshot(
    tmp_path: Path, pg_names: Callable[[], str]
) -> None:
    source = pg_create(pg_names())
    _fill(source)
    pg_exec(source, "insert into orders select g, 1, 1, repeat(md5(g::text), 30) "
            "from generate_series(60001, 160000) g")  # fmt: skip
    repo = Repository.init(LocalBackend(tmp_path / "repo"), "pw")
    progress = _KillDumpAfter(2 * 1024 * 1024)
    with pytest.raises(DumpFailed, match="pg_dump was killed by SIGKILL"):
        source_for(parse_source(source)).backup(BackupRequest([repo], progress=progress))
    assert progress.killed
    assert repo.snapshots() == []


def test_a_missing_dump_tool_names_the_package(
    initialized: Runner, tmp_path: Path, pg_names: Callable[[], str]
) -> None:
    source = pg_create(pg_names())
    empty = tmp_path / "no-tools"
    empty.mkdir()
    spec = "{type: postgres, dsn: '" + source + "', bin_dir: " + str(empty) + "}"
    failed = initialized("db", "backup", spec)
    assert failed.returncode == 20, failed.stderr
    assert "pg_dump is not installed" in failed.stderr and "postgresql-client" in failed.stderr
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


def test_latest_restores_one_source_and_refuses_ambiguity(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    first, second = pg_create(pg_names()), pg_create(pg_names())
    pg_exec(first, "create table a (x int)", "insert into a values (1)")
    pg_exec(second, "create table b (y int)", "insert into b values (2)")
    initialized("db", "backup", first).check()
    initialized("db", "backup", second).check()  # the newest: what `latest` used to take

    target = pg_dsn(pg_names())
    refused = initialized("db", "restore", "latest", "--to", target)
    assert refused.returncode == 2, refused.stderr
    assert "ambiguous" in refused.stderr and "--source" in refused.stderr
    first_name = first.rsplit("/", 1)[-1]
    initialized("db", "restore", "latest", "--to", target, "--source", first_name).check()
    assert set(pg_checksums(target)) == {"public.a"}
    again = initialized("db", "restore", "latest", "--to", first, "--force").check()
    assert "restored" in again.stdout  # the target's own name picks its own source
    assert set(pg_checksums(first)) == {"public.a"}


def test_a_pg_dump_that_prints_garbage_saves_nothing(
    initialized: Runner, pg_names: Callable[[], str], tmp_path: Path
) -> None:
    source = pg_create(pg_names())
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text("#!/bin/sh\nprintf 'PGDMP but not a dump at al'\n")
    (fake / "pg_dump").chmod(0o755)
    spec = f"{{type: postgres, dsn: '{source}', bin_dir: {fake}}}"
    done = initialized("db", "backup", spec)
    assert done.returncode == 21, done.stderr
    assert "not a complete dump (26 bytes)" in done.stderr
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


def test_globals_bring_the_roles_back_first(
    initialized: Runner, pg_names: Callable[[], str]
) -> None:
    """With globals: true the owner role is restored before the objects it owns."""
    import psycopg

    role = pg_names().replace("-", "_") + "_owner"
    source, target = pg_create(pg_names()), pg_dsn(pg_names())
    admin = pg_dsn("postgres")
    try:
        pg_exec(source, f"create role {role} login", "create table owned (x int)",
                f"alter table owned owner to {role}")  # fmt: skip
        spec = f"{{type: postgres, dsn: '{source}', globals: true}}"
        doc = json.loads(initialized("db", "backup", spec, "--json").check().stdout)
        assert doc["meta"]["postgres.globals"].endswith("/globals.sql")
        pg_exec(admin, f"drop database {source.rsplit('/', 1)[1]}", f"drop role {role}")

        done = initialized("db", "restore", "latest", "--to", target, "--json").check()
        assert any("roles and tablespaces replayed" in n for n in json.loads(done.stdout)["notes"])
        with psycopg.connect(target) as conn:
            row = conn.execute("select tableowner from pg_tables where tablename = 'owned'")
            assert row.fetchone() == (role,)
    finally:
        pg_exec(admin, f"drop database if exists {target.rsplit('/', 1)[1]}",
                f"drop database if exists {source.rsplit('/', 1)[1]}",
                f"drop role if exists {role}")  # fmt: skip
