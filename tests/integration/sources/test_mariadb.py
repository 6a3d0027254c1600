"""MariaDB backups against the machine's real server: round trip and faults."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import Runner
from tests.fixtures.databases import (
    free_port,
    mariadb_names_fixture,  # noqa: F401  (the mariadb_names fixture)
    my_checksums,
    my_connect,
    my_exec,
    my_url,
)

SCHEMA = (
    "create table customers (id int auto_increment primary key, name varchar(100) not null, "
    "photo blob, data json, created datetime(6)) engine=InnoDB",
    "create table orders (id bigint primary key, customer int, amount decimal(12,2), "
    "note text, foreign key (customer) references customers(id)) engine=InnoDB",
    "create view big_orders as select * from orders where amount > 100",
    "create procedure order_count(out n int) select count(*) into n from orders",
    "create trigger name_upper before insert on customers for each row "
    "set new.name = upper(new.name)",
)


def _fill(database: str) -> None:
    my_exec(None, f"create database `{database}`")
    my_exec(database, *SCHEMA)
    with my_connect(database) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into customers (name, photo, data, created) values (%s, %s, %s, %s)",
            [
                (f"c{i}", bytes([i % 256]) * 40, json.dumps({"n": i}), f"2024-01-02 03:04:{i % 60}")
                for i in range(1, 1001)
            ],
        )
        cur.executemany(
            "insert into orders values (%s, %s, %s, %s)",
            [(i, 1 + i % 1000, (i % 997) * 1.5, f"note {i} " * 20) for i in range(1, 20001)],
        )


def test_backup_and_restore_round_trip(
    initialized: Runner, mariadb_names: Callable[[], str]
) -> None:
    source = mariadb_names()
    _fill(source)
    done = json.loads(
        initialized("db", "backup", my_url(source), "--tag", "shop", "--json").check().stdout
    )
    assert done["meta"]["source.type"] == "mariadb"
    assert done["meta"]["mariadb.database"] == source

    target = mariadb_names()
    restored = json.loads(
        initialized("db", "restore", done["short_id"], "--to", my_url(target), "--json")
        .check()
        .stdout
    )
    assert restored["created"] is True
    assert my_checksums(target) == my_checksums(source)
    assert set(my_checksums(target)) == {"customers", "orders"}
    with my_connect(target) as conn, conn.cursor() as cur:
        cur.execute("call order_count(@n)")
        cur.execute("select @n")
        assert cur.fetchone() == (20000,)
        cur.execute("insert into customers (name) values ('lower')")
        cur.execute("select name from customers order by id desc limit 1")
        assert cur.fetchone() == ("LOWER",)  # the trigger came back too
        cur.execute("select count(*) from big_orders")
        assert cur.fetchone()[0] > 0


def test_a_restore_into_a_non_empty_database_is_refused_without_force(
    initialized: Runner, mariadb_names: Callable[[], str]
) -> None:
    source = mariadb_names()
    _fill(source)
    initialized("db", "backup", my_url(source)).check()
    target = mariadb_names()
    my_exec(None, f"create database `{target}`")
    my_exec(target, "create table keep_me (x int)")
    refused = initialized("db", "restore", "latest", "--to", my_url(target))
    assert refused.returncode == 22, refused.stderr
    assert "already holds 1 table(s)" in refused.stderr
    assert my_checksums(target) == {"keep_me": (0, my_checksums(target)["keep_me"][1])}

    initialized("db", "restore", "latest", "--to", my_url(target), "--force").check()
    assert my_checksums(target)["orders"] == my_checksums(source)["orders"]


def test_a_server_that_is_down_is_a_clear_error_and_saves_nothing(initialized: Runner) -> None:
    url = f"mariadb://root@127.0.0.1:{free_port()}/shop"
    failed = initialized("db", "backup", url)
    assert failed.returncode == 20, failed.stderr
    assert "cannot connect to MariaDB" in failed.stderr
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


def test_a_table_the_dump_cannot_read_fails_mid_stream_and_saves_nothing(
    initialized: Runner, mariadb_names: Callable[[], str]
) -> None:
    source = mariadb_names()
    _fill(source)
    my_exec(source, "create table zz_secrets (x int)")  # dumped last, after the others
    user = f"{source}_r"[:32]
    # zz_secrets is visible (INSERT) but not readable (no SELECT): the dump fails when it
    # gets there, after the other tables were already streamed
    my_exec(
        None,
        f"create user '{user}'@'%' identified by 'pw'",
        f"grant show view, lock tables, event, trigger on `{source}`.* to '{user}'@'%'",
        f"grant select on `{source}`.customers to '{user}'@'%'",
        f"grant select on `{source}`.orders to '{user}'@'%'",
        f"grant select on `{source}`.big_orders to '{user}'@'%'",
        f"grant insert on `{source}`.zz_secrets to '{user}'@'%'",
    )
    try:
        failed = initialized("db", "backup", my_url(source, user, "pw"))
        assert failed.returncode == 21, failed.stderr
        assert "mariadb-dump failed" in failed.stderr
        assert "zz_secrets" in failed.stderr
        assert json.loads(initialized("snapshots", "--json").check().stdout) == []
    finally:
        my_exec(None, f"drop user if exists '{user}'@'%'")


def test_collation_and_routines_come_back_and_missing_routines_are_refused(
    initialized: Runner, mariadb_names: Callable[[], str]
) -> None:
    source = mariadb_names()
    my_exec(None, f"create database `{source}` character set latin1 collate latin1_german1_ci")
    my_exec(source, "create table t (x int)", "insert into t values (1)",
            "create procedure p() select 1",
            "create function f() returns int return 2")  # fmt: skip
    initialized("db", "backup", my_url(source)).check()
    target = mariadb_names()
    initialized("db", "restore", "latest", "--to", my_url(target)).check()
    with my_connect() as conn, conn.cursor() as cur:
        cur.execute("select default_collation_name from information_schema.schemata "
                    "where schema_name = %s", (target,))  # fmt: skip
        assert cur.fetchone() == ("latin1_german1_ci",)
        cur.execute("select count(*) from information_schema.routines "
                    "where routine_schema = %s", (target,))  # fmt: skip
        assert cur.fetchone() == (2,)

    user = f"u{source[-12:]}".replace("-", "_")
    my_exec(None, f"create user '{user}'@'%' identified by 'pw'",
            f"grant select, show view, trigger, event, lock tables on `{source}`.* "
            f"to '{user}'@'%'")  # fmt: skip
    try:
        blind = initialized("db", "backup", my_url(source, user, "pw"))  # cannot see routines
        assert blind.returncode == 0 and "cannot read mysql.proc" in blind.stderr, blind.stderr
        my_exec(None, f"grant select on mysql.proc to '{user}'@'%'")  # as docs/sources.md says
        done = initialized("db", "backup", my_url(source, user, "pw"), "--json")
        if done.returncode == 0:  # the dump holds them: they must come back
            again = mariadb_names()
            snap = json.loads(done.stdout)["snapshot"]
            initialized("db", "restore", snap, "--to", my_url(again)).check()
            with my_connect() as conn, conn.cursor() as cur:
                cur.execute("select count(*) from information_schema.routines "
                            "where routine_schema = %s", (again,))  # fmt: skip
                assert cur.fetchone() == (2,)
        else:  # the dump left them out: refused, nothing recorded
            assert done.returncode == 21 and "of its 2 procedures" in done.stderr, done.stderr
    finally:
        my_exec(None, f"drop user if exists '{user}'@'%'")
