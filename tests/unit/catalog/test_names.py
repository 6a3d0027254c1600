"""The sqlite3 readers' table and column names are the ORM's (they can never drift apart)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

import drkit.confighistory.tables  # noqa: F401  (registers its tables on the metadata)
from drkit.catalog import names
from drkit.catalog.tables import Base


def _orm_table(name: str) -> Table:
    table = Base.metadata.tables.get(name)
    assert table is not None, f"the ORM defines no table {name!r}"
    return table


def _not_in_orm(table: names.Table) -> list[str]:
    orm = _orm_table(table.name)
    return [c for c in (*table.columns, *table.filters) if c not in orm.columns]


@pytest.mark.parametrize("table", names.ORM_TABLES, ids=lambda t: t.name)
def test_every_named_column_is_a_column_of_the_orm_table(table: names.Table) -> None:
    assert not _not_in_orm(table), f"{table.name}: not ORM columns: {_not_in_orm(table)}"


def test_the_step_run_column_is_the_foreign_key_to_runs() -> None:
    column = _orm_table(names.RUN_STEPS.name).columns[names.RUN_STEPS_RUN]
    assert {fk.column.table.name for fk in column.foreign_keys} == {names.RUNS.name}


def test_a_renamed_column_is_caught() -> None:
    assert _not_in_orm(names.Table(names.RUNS.name, ("id", "started"))) == ["started"]


def test_every_quick_reader_names_its_table_here() -> None:
    """The quick readers hold no table name of their own (grep-free: the SQL they build)."""
    assert names.RUNS.select("id = ?", "id DESC") == (
        'SELECT "id", "kind", "subject", "subject_version", "job", "trigger", "status", '
        '"scheduled_for", "started_at", "finished_at", "duration_s", "error", "host", '
        '"result_json" FROM "runs" WHERE id = ? ORDER BY id DESC'
    )
