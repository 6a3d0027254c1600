"""The sqlite3 read of runs gives what the ORM gives, and steps aside for a catalog not current."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from drkit.catalog import Catalog, quick
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus, get_run, list_runs


def _catalog(tmp_path: Path) -> tuple[Catalog, str]:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog.open(url)
    first = RunJournal.start(
        catalog, kind="backup", subject="app", trigger="cron", job="backup:app"
    )
    step = first.begin_step("backup")
    first.end_step(step, StepStatus.SUCCEEDED, output="ok\n", details={"result": {"n": 1}})
    first.begin_step("retention")
    first.finish(RunStatus.FAILED, error="boom", result={"steps": 2})
    RunJournal.start(catalog, kind="drill", subject="app", trigger="manual")
    return catalog, url


def test_the_quick_read_equals_the_orm_read(tmp_path: Path) -> None:
    catalog, url = _catalog(tmp_path)
    assert quick.list_runs(url) == list_runs(catalog)
    assert quick.list_runs(url, kind="drill") == list_runs(catalog, kind="drill")
    failed = quick.list_runs(url, status=RunStatus.FAILED, limit=5)
    assert failed == list_runs(catalog, status=RunStatus.FAILED, limit=5) and len(failed) == 1
    orm = get_run(catalog, failed[0].id)
    assert quick.get_run(url, orm.id) == orm
    assert [s.name for s in orm.steps] == ["backup", "retention"]
    assert orm.started_at.tzinfo is not None
    assert quick.get_run(url, 999) is None


def test_a_catalog_not_current_or_not_sqlite_is_left_to_the_orm(tmp_path: Path) -> None:
    _catalog(tmp_path)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with sqlite3.connect(tmp_path / "catalog.db") as conn:
        conn.execute("DELETE FROM alembic_version")
        conn.execute("INSERT INTO alembic_version VALUES ('older')")
    assert quick.list_runs(url) is None and quick.get_run(url, 1) is None
    assert quick.list_runs(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert quick.list_runs("postgresql://127.0.0.1/drkit") is None
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing created
