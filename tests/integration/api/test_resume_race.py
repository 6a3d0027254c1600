"""Two resumes of one stopped run at once, on a SQLite and a real PostgreSQL catalog: one
claims the run, the other is refused (run-not-resumable), never both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, get_run
from drkit.runbooks.errors import RunNotResumable
from drkit.services.runbook_launch import claim
from tests.fixtures.databases import (
    pg_create,
    pg_names_fixture,  # noqa: F401
)

RESUMES = 8


def _race(url: str) -> tuple[list[RunStatus], list[RunNotResumable]]:
    setup = Catalog.open(url)  # migrated once, before the race
    journal = RunJournal.start(setup, kind="runbook", subject="book", trigger="api")
    journal.finish(RunStatus.CANCELLED, error="cancelled by operator")
    barrier = threading.Barrier(RESUMES)
    won: list[RunStatus] = []
    refused: list[RunNotResumable] = []

    def resume() -> None:
        catalog = Catalog.open(url)  # each request its own connection
        barrier.wait()
        try:
            won.append(claim(catalog, journal.run_id))
        except RunNotResumable as exc:
            refused.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(RESUMES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert get_run(setup, journal.run_id).status is RunStatus.RUNNING
    return won, refused


def _check(won: list[RunStatus], refused: list[RunNotResumable]) -> None:
    assert won == [RunStatus.CANCELLED], (won, refused)
    assert len(refused) == RESUMES - 1 and all("still running" in e.message for e in refused)


def test_on_sqlite(tmp_path: Path) -> None:
    _check(*_race(f"sqlite:///{tmp_path / 'catalog.db'}"))


def test_on_postgresql(pg_names: Callable[[], str]) -> None:
    url = pg_create(pg_names()).replace("postgresql://", "postgresql+psycopg://")
    _check(*_race(url))
