"""db restore latest: the newest snapshot of ONE source, never another database's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.errors import SnapshotNotFound, UsageError
from drkit.repository.snapshot import Snapshot
from drkit.sources.snapshot_pick import pick_latest, target_database

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def snap(name: str, root: str, minutes: int, kind: str = "postgres") -> Snapshot:
    return Snapshot(
        time=T0 + timedelta(minutes=minutes), tree=b"", paths=[root], hostname="h",
        username="u", id=name * 64, meta={"source.type": kind},
    )  # fmt: skip


A_APP = snap("a", "/postgres/db1:5432/app", 1)
A_PG = snap("b", "/postgres/db1:5432/postgres", 2)
B_PG = snap("c", "/postgres/db2:5432/postgres", 3)  # another cluster, newest of all
A_APP2 = snap("d", "/postgres/db1:5432/app", 0)
SHOP = snap("e", "/mariadb/db3:3306/shop", 4, "mariadb")
ALL = [A_APP, A_PG, B_PG, A_APP2, SHOP]


@pytest.mark.parametrize(
    ("source", "database", "expected"),
    [(None, "app", A_APP), ("db2", None, B_PG), ("db1:5432/postgres", "x", A_PG),
     ("/postgres/db1:5432/app", None, A_APP)],
)  # fmt: skip
def test_picks_one_source(source: str | None, database: str | None, expected: Snapshot) -> None:
    chosen = pick_latest(ALL, "postgres", source=source, target_database=database)
    assert chosen is expected


@pytest.mark.parametrize(
    ("source", "database"), [(None, "postgres"), (None, "brand_new"), ("db1", None)]
)
def test_ambiguity_is_refused(source: str | None, database: str | None) -> None:
    with pytest.raises(UsageError) as caught:
        pick_latest(ALL, "postgres", source=source, target_database=database)
    assert "ambiguous" in caught.value.message and "--source" in caught.value.hint


def test_a_source_matching_nothing_is_refused() -> None:
    with pytest.raises(SnapshotNotFound) as caught:
        pick_latest(ALL, "postgres", source="db9")
    assert "/postgres/db2:5432/postgres" in caught.value.message


def test_one_source_restores_into_a_new_database() -> None:
    assert pick_latest([A_APP, A_APP2], "postgres", target_database="copy") is A_APP
    assert pick_latest(ALL, "mariadb", target_database="other") is SHOP
    with pytest.raises(SnapshotNotFound):
        pick_latest(ALL, "redis")


def test_target_database() -> None:
    assert target_database("postgresql://u@h:5432/x", "postgres") == "x"
    assert target_database("host=h dbname=y user=u", "postgres") == "y"
    assert target_database("mariadb://u@h/shop2", "mariadb") == "shop2"
    assert target_database("/var/lib/redis", "redis") is None
