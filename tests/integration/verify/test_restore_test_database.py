"""A restore test of a PostgreSQL dump restores the DATABASE into a scratch server drkit
starts and stops, runs the source's validation queries, and counts that time as RTO."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.fixtures.databases import pg_create, pg_exec
from tests.integration.verify.conftest import as_json, text


@pytest.fixture
def open_scratch() -> Iterator[Path]:
    """Scratch space the postgres user can reach (pytest's tmp folders are root's only)."""
    root = Path(tempfile.mkdtemp(prefix="drkit-dbtest-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def settings(tmp_path: Path, dsn: str, minimum: int) -> str:
    (tmp_path / "nas.pw").write_text("nas-pass")
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  nas: {{url: {tmp_path / "nas"}, media: disk, site: office, password_file: {tmp_path / "nas.pw"}}}
policies:
  app:
    sources:
      - type: postgres
        dsn: "{dsn}"
        checks:
          - {{sql: "select count(*) from orders", min: {minimum}}}
    repositories: [nas]
""")
    return str(cfg)


def test_a_dump_is_restored_into_a_scratch_server_and_queried(
    drkit: Runner, tmp_path: Path, open_scratch: Path, pg_names: Callable[[], str]
) -> None:
    dsn = pg_create(pg_names())
    pg_exec(dsn, "create table orders as select g as id from generate_series(1, 4200) g")
    cfg = settings(tmp_path, dsn, 4200)
    drkit("--config", cfg, "--repo", "nas", "init").check()
    drkit("--config", cfg, "backup", "--policy", "app").check()

    test = ["--config", cfg, "--repo", "nas", "verify", "restore-test", "--policy", "app",
            "--scratch", str(open_scratch)]  # fmt: skip
    done = drkit(*test, "--json")
    assert done.returncode == 0, text(done)
    result = as_json(done)
    steps = {s["name"]: s for s in result["steps"]}
    restore = next(s for n, s in steps.items() if n.startswith("restore into database"))
    query = steps["validate: select count(*) from orders"]
    assert restore["ok"] and query["ok"] and "-> 4200" in query["detail"]
    assert result["rto_s"] >= restore["duration_s"] + query["duration_s"]
    assert os.listdir(open_scratch) == []  # server stopped, scratch removed

    failing = settings(tmp_path, dsn, 4201)  # the copy must have more than it has
    done = drkit(*[failing if a == cfg else a for a in test], "--json")
    assert done.returncode == 32, text(done)
    failed = next(s for s in as_json(done)["steps"] if not s["ok"])
    assert "less than the expected minimum 4201" in failed["error"]
    assert os.listdir(open_scratch) == []
