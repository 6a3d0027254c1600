"""A restore test of a Redis source loads the RDB into a scratch redis-server drkit starts
and stops, runs the source's checks (DBSIZE by default), and counts that time as RTO."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Runner
from tests.fixtures.databases import (
    RedisServer,
)
from tests.integration.verify.conftest import as_json, text


def settings(tmp_path: Path, url: str, checks: str) -> str:
    (tmp_path / "nas.pw").write_text("nas-pass")
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  nas: {{url: {tmp_path / "nas"}, media: disk, site: office, password_file: {tmp_path / "nas.pw"}}}
policies:
  app:
    sources:
      - type: redis
        url: {url}
        {checks}
    repositories: [nas]
""")
    return str(cfg)


def test_the_rdb_is_loaded_into_a_scratch_server_and_checked(
    drkit: Runner, tmp_path: Path, redis_factory: Callable[..., RedisServer]
) -> None:
    source = redis_factory()
    with source.client() as client:
        client.mset({f"k{i}": str(i) for i in range(1500)})
    cfg = settings(tmp_path, source.url, "checks: [{command: DBSIZE, min: 1500}]")
    drkit("--config", cfg, "--repo", "nas", "init").check()
    drkit("--config", cfg, "backup", "--policy", "app").check()
    scratch = tmp_path / "scratch"
    test = ["--repo", "nas", "verify", "restore-test", "--policy", "app", "--scratch",
            str(scratch), "--json"]  # fmt: skip

    done = drkit("--config", cfg, *test)
    assert done.returncode == 0, text(done)
    result = as_json(done)
    steps = {s["name"]: s for s in result["steps"]}
    load, check = steps["load the RDB into redis-server"], steps["validate: DBSIZE"]
    assert load["ok"] and check["ok"] and "-> 1500" in check["detail"]
    assert result["rto_s"] >= load["duration_s"] + check["duration_s"]
    assert os.listdir(scratch) == []  # server stopped, scratch removed

    strict = settings(tmp_path, source.url, "checks: [{command: DBSIZE, min: 1501}]")
    done = drkit("--config", strict, *test)
    assert done.returncode == 32, text(done)
    failed = next(s for s in as_json(done)["steps"] if not s["ok"])
    assert "less than the expected minimum 1501" in failed["error"]
    assert os.listdir(scratch) == []


def test_an_empty_dataset_fails_the_default_check(
    drkit: Runner, tmp_path: Path, redis_factory: Callable[..., RedisServer]
) -> None:
    source = redis_factory()
    cfg = settings(tmp_path, source.url, "")
    drkit("--config", cfg, "--repo", "nas", "init").check()
    drkit("--config", cfg, "backup", "--policy", "app").check()
    done = drkit("--config", cfg, "--repo", "nas", "verify", "restore-test", "--policy", "app",
                 "--scratch", str(tmp_path / "scratch"), "--json")  # fmt: skip
    assert done.returncode == 32, text(done)
    failed = next(s for s in as_json(done)["steps"] if not s["ok"])
    assert (
        failed["name"] == "validate: DBSIZE"
        and "less than the expected minimum 1" in failed["error"]
    )


def test_a_drill_of_a_mariadb_and_redis_policy_restores_each_into_its_server(
    drkit: Runner,
    tmp_path: Path,
    redis_factory: Callable[..., RedisServer],
    mariadb_names: Callable[[], str],
) -> None:
    from tests.fixtures.databases import my_exec

    cache = redis_factory()
    with cache.client() as client:
        client.mset({f"k{i}": "v" for i in range(40)})
    database = mariadb_names()
    my_exec(None, f"create database `{database}`")
    my_exec(database, "create table orders (id int primary key)", "insert into orders values (1)")
    cfg = Path(settings(tmp_path, cache.url, "checks: [{command: DBSIZE, min: 40}]"))
    cfg.write_text(
        cfg.read_text().replace(
            "    repositories: [nas]",
            f"      - {{type: mariadb, database: {database},\n"
            '         checks: [{sql: "select count(*) from orders", min: 1}]}\n'
            "    repositories: [nas]",
        )
    )
    args = ("--config", str(cfg))
    drkit(*args, "--repo", "nas", "init").check()
    drkit(*args, "backup", "--policy", "app").check()

    done = drkit(*args, "drill", "backup", "--policy", "app", "--scratch",
                 str(tmp_path / "scratch"), "--json")  # fmt: skip
    assert done.returncode == 0, text(done)
    entries = {e["source"].split("/")[1]: e for e in as_json(done)["repositories"]}
    assert set(entries) == {"redis", "mariadb"}
    redis_steps = {s["name"] for s in entries["redis"]["restore_test"]["steps"]}
    maria_steps = {s["name"] for s in entries["mariadb"]["restore_test"]["steps"]}
    assert {"load the RDB into redis-server", "validate: DBSIZE"} <= redis_steps
    assert {
        "start a scratch MariaDB server",
        "validate: select count(*) from orders",
    } <= maria_steps
    status = as_json(drkit(*args, "status", "--json").check())
    assert {s["repositories"][0]["restore_test"] for s in status["app"]} == {"ok"}
