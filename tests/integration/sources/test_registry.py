"""Choosing a source driver: URLs, YAML mappings, policy entries, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drkit.errors import UsageError
from drkit.settings.policies import PolicySettings
from drkit.sources.mariadb import MariadbConfig
from drkit.sources.postgres_logical import PostgresConfig
from drkit.sources.redis import RedisConfig
from drkit.sources.registry import (
    parse_source,
    policy_paths,
    policy_sources,
    source_for,
    target_type,
)
from drkit.sources.sqlite import SqliteConfig


@pytest.mark.parametrize(
    ("text", "kind", "root"),
    [
        ("postgresql://postgres@db1:5433/app", PostgresConfig, "/postgres/db1:5433/app"),
        ("postgres://u:secret@db1/app", PostgresConfig, "/postgres/db1:5432/app"),
        ("host=/run/postgresql dbname=app", PostgresConfig, "/postgres/local:5432/app"),
        ("mariadb://root@db2:3307/shop", MariadbConfig, "/mariadb/db2:3307/shop"),
        ("mysql://root@db2/shop", MariadbConfig, "/mariadb/db2:3306/shop"),
        ("sqlite:///var/lib/app.db", SqliteConfig, "/sqlite/var/lib/app.db"),
        ("redis://cache:6380/2", RedisConfig, "/redis/cache:6380"),
        ("{type: redis, url: 'redis://cache'}", RedisConfig, "/redis/cache:6379"),
    ],
)
def test_urls_and_mappings_pick_the_driver(text: str, kind: type, root: str) -> None:
    if text.startswith("host="):
        text = "{type: postgres, dsn: '" + text + "'}"
    config = parse_source(text)
    assert isinstance(config, kind)
    assert source_for(config).paths == [root]
    assert "secret" not in config.describe()


def test_a_password_never_reaches_the_command_line() -> None:
    config = parse_source("postgresql://u:s3cret@db1/app")
    assert isinstance(config, PostgresConfig)
    address = config.address()
    assert "s3cret" not in address.conninfo()
    assert address.env() == {"PGPASSWORD": "s3cret"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://x/y", "not a source drkit knows"),
        (
            "{type: oracle, dsn: x}",
            "one of files, mariadb, postgres, postgres-physical, redis, sqlite",
        ),
        ("{type: postgres}", "postgres.dsn: Field required"),
        ("{type: postgres, dsn: 'postgresql://h/db', colour: red}", "colour"),
        ("postgresql://u@h", "must name a database"),
        ("mariadb://root@h", "names no database"),
        ("{type: redis, url: 'http://x'}", "redis://"),
        ("{type: [", "not valid YAML"),
    ],
)
def test_bad_sources_are_usage_errors_that_say_why(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_source(text)
    assert message in caught.value.message


def test_a_sqlite_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "x.data"
    sqlite3.connect(db).execute("create table t (x)").connection.close()
    assert isinstance(parse_source(str(db)), SqliteConfig)
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(UsageError):
        parse_source(str(tmp_path / "plain.txt"))


def test_restore_targets_imply_a_type() -> None:
    assert target_type("postgresql://u@h/db") == "postgres"
    assert target_type("mysql://u@h/db") == "mariadb"
    assert target_type("sqlite:///x.db") == "sqlite"
    assert target_type("/var/lib/redis") is None


def test_policy_sources_mix_paths_and_typed_sources() -> None:
    policy = PolicySettings.model_validate(
        {
            "sources": [
                "/srv/app",
                {"type": "postgres", "dsn": "postgresql://u@h/app"},
                {"type": "files", "paths": ["/etc/app"], "excludes": ["*.tmp"]},
            ],
            "repositories": ["nas"],
        }
    )
    assert policy_paths(policy.sources) == ["/srv/app"]
    assert [s.type for s in policy_sources(policy.sources)] == ["postgres", "files"]


def test_a_policy_source_error_is_located_at_its_entry() -> None:
    with pytest.raises(ValidationError) as caught:
        PolicySettings.model_validate(
            {"sources": ["/srv", {"type": "mariadb"}], "repositories": ["nas"]}
        )
    assert [e["loc"] for e in caught.value.errors()] == [("sources", 1, "mariadb", "database")]


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://u:s3cret@db1/app",
        "mariadb://root:s3cret@db2/shop",
        "redis://:s3cret@cache:6379",
    ],
)
def test_str_and_repr_of_a_source_never_show_its_password(text: str) -> None:
    config = parse_source(text)
    assert "s3cret" not in str(config) and "s3cret" not in repr(config)
    assert config.type in str(config)
