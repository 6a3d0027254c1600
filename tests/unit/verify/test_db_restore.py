"""Validation queries: the verdict on a value, and finding the source of a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drkit.repository.snapshot import Snapshot
from drkit.sources.postgres_logical import PostgresConfig
from drkit.sources.sql_checks import SqlCheck
from drkit.verify.db_restore import checks_for, restores_into_a_server


@pytest.mark.parametrize(
    ("value", "minimum", "ok"),
    [(5, 1, True), (0, 1, False), (1000, 1000, True), ("12", 10, True), ("x", 1, False),
     (None, 1, False), (True, 1, False), (2.5, 3, False)],
)  # fmt: skip
def test_verdict(value: object, minimum: float, ok: bool) -> None:
    assert (SqlCheck(sql="select 1", min=minimum).verdict(value) is None) is ok


def test_checks_come_from_the_source_that_made_the_snapshot() -> None:
    app = PostgresConfig(
        dsn="postgresql://u@db1:5432/app", checks=[SqlCheck(sql="select count(*) from t")]
    )
    other = PostgresConfig(dsn="postgresql://u@db1:5432/other")
    snap = Snapshot(
        time=datetime(2026, 12, 1, tzinfo=UTC), tree=b"", paths=["/postgres/db1:5432/app"],
        hostname="h", username="u", id="a" * 64, meta={"source.type": "postgres"},
    )  # fmt: skip
    assert restores_into_a_server(snap)
    assert checks_for(snap, [other, app]) == tuple(app.checks)
    assert checks_for(snap, [other]) == ()
