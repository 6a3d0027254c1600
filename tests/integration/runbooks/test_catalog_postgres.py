"""The runbook tables (migration 0003) on PostgreSQL, and a runbook journaled there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.catalog.types import utcnow
from drkit.runbooks import requests, versions
from drkit.runbooks.approvals import DecisionRecord, Verdict, record
from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.service import RunRequest, start_run
from drkit.settings.model import Settings
from tests.fixtures.databases import pg_create, pg_dsn

BOOK = """
name: pg
steps:
  - {id: a, action: shell, with: {command: "echo k=v >> $DRKIT_OUTPUT"}}
  - {id: gate, manual: {prompt: go?, timeout: 30}}
"""


def test_runbooks_journal_into_a_postgresql_catalog(pg_names: Callable[[], str]) -> None:
    name = pg_names()
    pg_create(name)
    catalog = Catalog.open(pg_dsn(name))
    try:
        assert "0003" in catalog.revisions()
        tables = set(inspect(catalog.engine).get_table_names())
        assert {"runbook_versions", "runbook_requests", "runs", "run_steps"} <= tables
        loaded = parse_runbook(BOOK, Path("pg.yaml"))
        recorded = versions.record(catalog, loaded, "alice")

        def approve(run_id: int, step: str, prompt: str) -> None:
            entry = DecisionRecord(step, "alice", "token:x", Verdict.APPROVED, utcnow())
            record(catalog, run_id, entry)  # the run's row locked FOR UPDATE on PostgreSQL
            requests.send(catalog, run_id, requests.RequestKind.APPROVE, actor="alice", step=step)

        report = start_run(
            catalog, loaded.runbook, Settings(), RunRequest(poll_s=0.05, prompt=approve)
        )
        assert report.status is RunStatus.SUCCEEDED, report.error
        view = get_run(catalog, report.run_id)
        assert view.subject_version == recorded.version
        assert view.steps[0].details["outputs"] == {
            "stdout": "",
            "exit_code": "0",
            "k": "v",
        }
        assert view.steps[1].actor == "alice"
        assert [a["user"] for a in view.result["approvals"]] == ["alice"]
        assert requests.history(catalog, report.run_id)[0].kind is requests.RequestKind.APPROVE
        assert versions.history(catalog, "pg")[0].author == "alice"
    finally:
        catalog.close()
