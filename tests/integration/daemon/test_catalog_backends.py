"""The catalog on SQLite and on PostgreSQL: migrations, journals, abandoned runs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect as sa_inspect

from drkit.catalog import Catalog
from drkit.catalog.errors import CatalogUnavailable
from drkit.catalog.runs import (
    RunJournal,
    RunStatus,
    StepStatus,
    close_abandoned,
    get_run,
    list_runs,
)
from drkit.catalog.tables import RunRow
from tests.integration.daemon.conftest import DaemonHome

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"drkit_catalog_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    opened = Catalog.open(url)
    yield opened
    opened.close()


def test_migrations_apply_every_branch_and_are_idempotent(catalog: Catalog) -> None:
    heads = catalog.revisions()
    assert heads == {"0003", "0004", "0008"}  # 0001 and the branches on it
    catalog.migrate()  # again: nothing to do, nothing breaks
    assert catalog.revisions() == heads
    with catalog.engine.connect() as conn:
        tables = set(sa_inspect(conn).get_table_names())
    assert {"runs", "run_steps", "alerts", "deliveries", "pack_checks", "job_state"} <= tables


def test_the_journal_is_written_step_by_step(catalog: Catalog) -> None:
    journal = RunJournal.start(catalog, kind="backup", subject="app", trigger="schedule")
    with journal.step("dump") as outcome:
        outcome.output = "12 MiB"
    step = journal.begin_step("upload")
    view = get_run(catalog, journal.run_id)  # read while the run goes on
    assert [(s.name, s.status) for s in view.steps] == [
        ("dump", StepStatus.SUCCEEDED),
        ("upload", StepStatus.RUNNING),
    ]
    journal.end_step(step, StepStatus.FAILED, error="connection reset")
    journal.finish(RunStatus.FAILED, error="connection reset", result={"bytes": 5})
    view = get_run(catalog, journal.run_id)
    assert view.status is RunStatus.FAILED and view.result == {"bytes": 5}
    assert view.steps[0].output == "12 MiB" and view.steps[1].error == "connection reset"
    assert all(s.duration_s is not None and s.duration_s >= 0 for s in view.steps)
    assert view.started_at.tzinfo is not None


def test_runs_of_dead_processes_are_closed_as_interrupted(catalog: Catalog) -> None:
    journal = RunJournal.start(catalog, kind="check", subject="app")
    journal.begin_step("read")
    with catalog.session() as session:
        session.get_one(RunRow, journal.run_id).pid = 2**22 + 12345  # no such process
    live = RunJournal.start(catalog, kind="backup", subject="app")  # this process: alive
    assert close_abandoned(catalog) == [journal.run_id]
    view = get_run(catalog, journal.run_id)
    assert view.status is RunStatus.INTERRUPTED
    assert view.steps[0].status is StepStatus.INTERRUPTED
    assert get_run(catalog, live.run_id).status is RunStatus.RUNNING


def test_an_interrupted_run_ends_at_its_last_journal_entry_not_at_the_next_start(
    catalog: Catalog,
) -> None:
    journal = RunJournal.start(catalog, kind="backup", subject="app")
    done = journal.begin_step("snapshot")
    journal.end_step(done, StepStatus.SUCCEEDED)
    journal.begin_step("retention")
    long_ago = timedelta(days=2)  # the daemon was killed two days before its next start
    with catalog.session() as session:
        row = session.get_one(RunRow, journal.run_id)
        row.pid = 2**22 + 12345
        row.started_at -= long_ago
        for step in row.steps:
            step.started_at -= long_ago
            if step.finished_at is not None:
                step.finished_at -= long_ago
        last = max(s.started_at for s in row.steps)
    close_abandoned(catalog)
    view = get_run(catalog, journal.run_id)
    assert view.finished_at == last
    assert view.duration_s == (last - view.started_at).total_seconds()  # not two days
    assert view.steps[1].status is StepStatus.INTERRUPTED and view.steps[1].finished_at == last


def test_serve_uses_a_postgresql_catalog_from_drkit_yaml(home: DaemonHome, pg_url: str) -> None:
    home.write_settings(extra=f"catalog:\n  url: {pg_url}\n")
    home.drkit("run-job", "backup:app").check()
    home.drkit("serve", "--once").check()
    shown = home.drkit("runs", "--json").check().stdout
    assert '"job": "backup:app"' in shown
    pg = Catalog.open(pg_url)
    assert get_run(pg, 1).status is RunStatus.SUCCEEDED
    assert list_runs(home.catalog()) == []  # nothing went to the default SQLite catalog


def test_an_unreachable_catalog_is_a_clear_error(home: DaemonHome) -> None:
    home.write_settings(extra="catalog:\n  url: postgresql://postgres@127.0.0.1:1/nowhere\n")
    result = home.drkit("runs")
    assert result.returncode == CatalogUnavailable.exit_code
    assert "catalog" in result.stderr and "hint" in result.stderr
    assert "Traceback" not in result.stderr and os.sep + "nowhere" in result.stderr
