"""A restore test of a base backup recovers it with the archived WAL in a scratch server on
a private socket until it promotes, runs the source's queries, and stops it."""

from __future__ import annotations

import json
import os

from tests.fixtures.pgcluster import PgLab


def test_a_base_backup_is_recovered_and_queried(pglab: PgLab) -> None:
    primary = pglab.cluster()
    primary.sql("create table orders as select g as id from generate_series(1, 300) g")
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--tag", "policy:db")
    assert done.returncode == 0, done.stderr
    primary.sql("insert into orders select g from generate_series(301, 777) g")  # WAL only
    primary.wait_archived(primary.switch_wal())

    cfg = pglab.base / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  lab: {{url: {pglab.repo}, media: disk, site: lab, password_file: {pglab.password_file}}}
policies:
  db:
    sources:
      - type: postgres-physical
        dsn: "{primary.dsn}"
        checks:
          - {{sql: "select count(*) from orders", min: 777}}
    repositories: [lab]
""")
    scratch = pglab.base / "scratch"
    scratch.mkdir()
    done = pglab.drkit("--config", str(cfg), "verify", "restore-test", "--policy", "db",
                       "--scratch", str(scratch), "--json")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    steps = {s["name"]: s for s in json.loads(done.stdout)["steps"]}
    assert steps["recover and promote"]["ok"]
    assert "-> 777" in steps["validate: select count(*) from orders"]["detail"]
    assert os.listdir(scratch) == []
    assert primary.one("select count(*) from orders") == 777  # the source is untouched
    cfg.write_text(cfg.read_text().replace("min: 777", "min: 778"))  # more than there is
    done = pglab.drkit("--config", str(cfg), "verify", "restore-test", "--policy", "db",
                       "--scratch", str(scratch), "--json")  # fmt: skip
    assert done.returncode == 32, done.stdout + done.stderr
    failed = next(s for s in json.loads(done.stdout)["steps"] if not s["ok"])
    assert "less than the expected minimum 778" in failed["error"]
    assert os.listdir(scratch) == []  # the server was stopped and its folder removed
