"""Policies mixing files and databases: `drkit backup --policy` and drkit.yaml parsing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from tests.conftest import Runner, tree_digest
from tests.fixtures.databases import (
    free_port,
    pg_checksums,
    pg_create,
    pg_dsn,
    pg_exec,
    pg_names_fixture,  # noqa: F401  (the pg_names fixture)
)


def _settings(tmp_path: Path, sources: str) -> str:
    for name in ("nas", "cloud"):
        (tmp_path / f"{name}.pw").write_text(f"{name}-pass")
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  nas: {{url: {tmp_path / "nas"}, media: disk, site: office, password_file: {tmp_path / "nas.pw"}}}
  cloud: {{url: {tmp_path / "cloud"}, media: object, site: aws,
          password_file: {tmp_path / "cloud.pw"}}}
policies:
  app:
    sources:
{sources}
    repositories: [nas, cloud]
""")
    return str(cfg)


def _sqlite(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table t (x)")
        conn.executemany("insert into t values (?)", [(i,) for i in range(100)])
        conn.commit()
    return path


def _snapshots(drkit: Runner, cfg: str, repo: str) -> list[dict[str, object]]:
    out = drkit("--config", cfg, "--repo", repo, "snapshots", "--json").check().stdout
    return list(json.loads(out))


def test_a_policy_backs_up_files_and_databases_into_every_repository(
    drkit: Runner, sample_tree: Path, tmp_path: Path, pg_names: Callable[[], str]
) -> None:
    dsn = pg_create(pg_names())
    pg_exec(dsn, "create table t (id int primary key, v text)",
            "insert into t select g, md5(g::text) from generate_series(1, 5000) g")  # fmt: skip
    db = _sqlite(tmp_path / "app.db")
    cfg = _settings(
        tmp_path,
        f"      - {sample_tree}\n"
        f'      - {{type: postgres, dsn: "{dsn}"}}\n'
        f"      - {{type: sqlite, path: {db}}}\n",
    )
    for name in ("nas", "cloud"):
        drkit("--config", cfg, "--repo", name, "init").check()
    drkit("--config", cfg, "backup", "--policy", "app").check()

    listings = {name: _snapshots(drkit, cfg, name) for name in ("nas", "cloud")}
    for snaps in listings.values():
        assert sorted(str(s["paths"]) for s in snaps) == sorted(
            [str([str(sample_tree)]), str([f"/postgres/{dsn.split('@')[1]}"]),
             str([f"/sqlite{db}"])]
        )  # fmt: skip
        assert all(s["tags"] == ["policy:app"] for s in snaps)
    assert {s["id"] for s in listings["nas"]} == {s["id"] for s in listings["cloud"]}

    target = pg_dsn(pg_names())
    drkit("--config", cfg, "--repo", "cloud", "db", "restore", "latest", "--to", target).check()
    assert pg_checksums(target) == pg_checksums(dsn)
    files = next(s for s in listings["cloud"] if s["paths"] == [str(sample_tree)])
    out = tmp_path / "files-out"
    drkit("--config", cfg, "--repo", "cloud", "restore", str(files["id"]), "--target", str(out))
    assert tree_digest(out / str(sample_tree).lstrip("/")) == tree_digest(sample_tree)


def test_a_database_that_is_down_does_not_stop_the_other_sources(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    db = _sqlite(tmp_path / "app.db")
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/app"
    cfg = _settings(
        tmp_path,
        f'      - {{type: postgres, dsn: "{down}"}}\n      - {{type: sqlite, path: {db}}}\n',
    )
    for name in ("nas", "cloud"):
        drkit("--config", cfg, "--repo", name, "init").check()
    failed = drkit("--config", cfg, "backup", "--policy", "app")
    assert failed.returncode == 20, failed.stderr
    assert "postgres 127.0.0.1" in failed.stderr and "cannot connect" in failed.stderr
    for name in ("nas", "cloud"):
        assert [s["paths"] for s in _snapshots(drkit, cfg, name)] == [[f"/sqlite{db}"]]


def test_an_unknown_source_type_names_the_line_and_the_known_types(
    drkit: Runner, tmp_path: Path
) -> None:
    cfg = _settings(tmp_path, "      - /srv/app\n      - {type: oracle, dsn: x}\n")
    failed = drkit("--config", cfg, "backup", "--policy", "app")
    assert failed.returncode == 2, failed.stderr
    assert "drkit.yaml:10: policies.app.sources[1]" in failed.stderr
    assert "files, mariadb, postgres, postgres-physical, redis, sqlite" in failed.stderr


def test_a_source_missing_a_field_names_it(drkit: Runner, tmp_path: Path) -> None:
    cfg = _settings(tmp_path, "      - {type: postgres}\n")
    failed = drkit("--config", cfg, "backup", "--policy", "app")
    assert failed.returncode == 2, failed.stderr
    assert "sources[0].postgres.dsn" in failed.stderr


def test_a_missing_password_file_is_a_clear_error(drkit: Runner, tmp_path: Path) -> None:
    """postgres, mariadb and redis sources, and pg basebackup: no traceback, exit 20."""
    gone = tmp_path / "no-such.pw"
    sources = {
        "postgres": f"      - {{type: postgres, dsn: 'postgresql://u@127.0.0.1:1/x', "
        f"password_file: {gone}}}",
        "mariadb": f"      - {{type: mariadb, host: 127.0.0.1, port: 1, user: u, "
        f"database: x, password_file: {gone}}}",
        "redis": f"      - {{type: redis, url: 'redis://127.0.0.1:1', password_file: {gone}}}",
    }
    for kind, line in sources.items():
        cfg = _settings(tmp_path, line)
        for repo in ("nas", "cloud"):
            drkit("--config", cfg, "--repo", repo, "init")
        done = drkit("--config", cfg, "backup", "--policy", "app")
        assert done.returncode == 20, (kind, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, kind
        assert f"the file {gone} does not exist" in done.stderr
    drkit("init")
    done = drkit("pg", "basebackup", "--dsn", "host=127.0.0.1 port=1 user=u dbname=postgres",
                 "--pg-password-file", str(gone))  # fmt: skip
    assert done.returncode == 20 and "Traceback" not in done.stderr, done.stderr
    assert "does not exist" in done.stderr
