"""Opening a current catalog reads the migration heads without Alembic, and agrees with it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from drkit.catalog import Catalog
from drkit.catalog.engine import _head_revisions
from drkit.catalog.heads import script_heads


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert script_heads() == _head_revisions()


def test_a_catalog_missing_a_revision_is_still_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog.open(url)
    heads = catalog.revisions()
    assert heads == _head_revisions()
    with catalog.engine.begin() as conn:  # as if the runbooks branch had never been applied
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0003'"))
        for table in ("runbook_versions", "runbook_requests"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    catalog.close()
    reopened = Catalog.open(url)
    try:
        assert reopened.revisions() == heads
        with reopened.engine.connect() as conn:  # the tables are back, not just the revision
            assert conn.execute(text("SELECT count(*) FROM runbook_versions")).scalar() == 0
    finally:
        reopened.close()


def test_the_revision_lines_are_read_as_the_syntax_tree_reads_them() -> None:
    from drkit.catalog.heads import _parsed_fields, _revision_fields

    one_line = 'revision = "0012"\ndown_revision: str | None = "0011"\nbranch_labels = None\n'
    merge = 'revision = "0013"\ndown_revision = (\n    "0011",\n    "0012",\n)\n'
    first = 'revision: str = "0001"\ndown_revision = None\n'
    for source in (one_line, merge, first):
        assert _revision_fields(source) == _parsed_fields(source)
    assert _revision_fields(merge)["down_revision"] == ("0011", "0012")
