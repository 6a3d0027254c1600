"""Slot claims on a real PostgreSQL catalog: of many serves claiming one slot at once, one wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from drkit.catalog import Catalog
from drkit.scheduler.claims import Claim, claim_slot
from tests.fixtures.databases import (
    pg_create,
    pg_names_fixture,  # noqa: F401
)

SLOT = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_one_of_eight_concurrent_claims_wins_and_the_others_name_it(
    pg_names: Callable[[], str],
) -> None:
    url = pg_create(pg_names()).replace("postgresql://", "postgresql+psycopg://")
    Catalog.open(url)  # migrated once, before the race
    barrier = threading.Barrier(8)
    claims: dict[str, Claim] = {}

    def claim(name: str) -> None:
        catalog = Catalog.open(url)  # each serve has its own connections
        barrier.wait()
        claims[name] = claim_slot(catalog, "backup:app", SLOT, name)

    threads = [threading.Thread(target=claim, args=(f"serve{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [name for name, c in claims.items() if c.won]
    assert len(claims) == 8 and len(winners) == 1, claims
    assert {c.holder for c in claims.values()} == set(winners)
    # another slot of the same job is free again
    assert claim_slot(Catalog.open(url), "backup:app", SLOT.replace(hour=3), "serve0").won
