"""A restore test of a MariaDB source imports the dump into a scratch mariadbd drkit starts
and stops (its own datadir, networking off), runs the source's queries, counts it as RTO."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Runner
from tests.fixtures.databases import my_exec
from tests.integration.verify.conftest import as_json, text


def settings(tmp_path: Path, database: str, minimum: int) -> str:
    (tmp_path / "nas.pw").write_text("nas-pass")
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  nas: {{url: {tmp_path / "nas"}, media: disk, site: office, password_file: {tmp_path / "nas.pw"}}}
policies:
  app:
    sources:
      - type: mariadb
        host: 127.0.0.1
        port: 3306
        user: root
        database: {database}
        checks:
          - {{sql: "select count(*) from orders", min: {minimum}}}
    repositories: [nas]
""")
    return str(cfg)


def test_the_dump_is_imported_into_a_scratch_server_and_queried(
    drkit: Runner, tmp_path: Path, mariadb_names: Callable[[], str]
) -> None:
    source = mariadb_names()
    my_exec(None, f"create database `{source}`")
    my_exec(source, "create table orders (id int primary key)",
            "insert into orders select seq from seq_1_to_3100")  # fmt: skip
    cfg = settings(tmp_path, source, 3100)
    drkit("--config", cfg, "--repo", "nas", "init").check()
    drkit("--config", cfg, "backup", "--policy", "app").check()
    scratch = tmp_path / "scratch"
    test = ["--repo", "nas", "verify", "restore-test", "--policy", "app", "--scratch",
            str(scratch), "--json"]  # fmt: skip

    done = drkit("--config", cfg, *test)
    assert done.returncode == 0, text(done)
    result = as_json(done)
    steps = {s["name"]: s for s in result["steps"]}
    restore = steps[f"restore into database {source}"]
    query = steps["validate: select count(*) from orders"]
    assert restore["ok"] and query["ok"] and "-> 3100" in query["detail"]
    assert (
        result["rto_s"]
        >= steps["start a scratch MariaDB server"]["duration_s"]
        + restore["duration_s"]
        + query["duration_s"]
    )
    assert os.listdir(scratch) == []  # server stopped, scratch removed

    failing = settings(tmp_path, source, 3101)
    done = drkit("--config", failing, *test)
    assert done.returncode == 32, text(done)
    failed = next(s for s in as_json(done)["steps"] if not s["ok"])
    assert "less than the expected minimum 3101" in failed["error"]
    assert os.listdir(scratch) == []
