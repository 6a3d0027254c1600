"""A resume through the API claims the stopped run in one transaction: a run running or
succeeded (a resume that ended meanwhile) is refused, anything else runs again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, get_run
from drkit.runbooks.errors import RunNotResumable
from drkit.services.runbook_launch import claim


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def _run(catalog: Catalog, status: RunStatus) -> int:
    journal = RunJournal.start(catalog, kind="runbook", subject="book", trigger="api")
    journal.finish(status, error="stopped", result={"inputs": {}})
    return journal.run_id


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED])
def test_a_stopped_run_is_claimed_once(catalog: Catalog, status: RunStatus) -> None:
    run_id = _run(catalog, status)
    assert claim(catalog, run_id) is status
    view = get_run(catalog, run_id)
    assert view.status is RunStatus.RUNNING and view.error is None and view.finished_at is None
    with pytest.raises(RunNotResumable, match="still running"):
        claim(catalog, run_id)  # the second resume at once
    assert get_run(catalog, run_id).result == {"inputs": {}}  # the run's inputs are kept


def test_a_run_that_succeeded_meanwhile_is_not_claimed(catalog: Catalog) -> None:
    run_id = _run(catalog, RunStatus.SUCCEEDED)
    with pytest.raises(RunNotResumable, match="nothing left"):
        claim(catalog, run_id)
    assert get_run(catalog, run_id).status is RunStatus.SUCCEEDED


def test_the_claim_names_this_process(catalog: Catalog) -> None:
    from drkit.catalog.tables import RunRow

    run_id = _run(catalog, RunStatus.CANCELLED)
    claim(catalog, run_id)
    with catalog.session() as s:
        assert s.get_one(RunRow, run_id).pid == os.getpid()
