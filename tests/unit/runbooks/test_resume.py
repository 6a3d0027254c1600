"""Resume after a crash, re-run from a step, cancel, and manual approvals (SQLite catalog)."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus, get_run
from drkit.catalog.tables import RunRow
from drkit.runbooks import requests
from drkit.runbooks.errors import RunbookError, RunNotResumable
from drkit.runbooks.journal import Phase, RunbookJournal, StepDetails
from drkit.runbooks.model import Runbook
from drkit.runbooks.service import RunRequest, cancel, rerun, resume_run, start_run
from drkit.settings.model import Settings
from tests.unit.runbooks.fakes import EVENTS, FAILURES, GATES, run, runbook

THREE = """
name: three
inputs: {region: {}}
steps:
  - {id: a, action: fake.echo, with: {label: a, outputs: {lsn: "0/AA"}}}
  - {id: b, action: fake.echo, with: {label: "b-${{ inputs.region }}"}}
  - {id: c, action: fake.echo, with: {label: "c-${{ steps.a.outputs.lsn }}"}}
"""


def _loader(book: Runbook):  # type: ignore[no-untyped-def]
    def load(name: str, version: str) -> Runbook:
        assert (name, version) == (book.name, book.version)
        return book

    return load


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _crashed_run(catalog: Catalog, book: Runbook) -> int:
    """The journal a SIGKILL leaves: step a done with its outputs, b running, run 'running'."""
    journal = RunbookJournal(
        RunJournal.start(catalog, kind="runbook", subject=book.name, subject_version=book.version)
    )
    journal.merge_result({"inputs": {"region": "eu"}})
    a = StepDetails("a", Phase.MAIN, action="fake.echo", outputs={"lsn": "0/AA"})
    journal.end(journal.begin(a), StepStatus.SUCCEEDED, a)
    journal.begin(StepDetails("b", Phase.MAIN, action="fake.echo"))
    with catalog.session() as session:
        session.get_one(RunRow, journal.run_id).pid = _dead_pid()
    return journal.run_id


def test_a_crashed_run_resumes_at_its_first_unfinished_step(catalog: Catalog) -> None:
    book = runbook(THREE)
    run_id = _crashed_run(catalog, book)
    report = resume_run(catalog, run_id, _loader(book), Settings(), RunRequest(poll_s=0.02))
    assert report.run_id == run_id and report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["b-eu", "c-0/AA"]  # a not run again; its recorded output used
    view = get_run(catalog, run_id)
    assert [(s.name, s.status.value) for s in view.steps] == [
        ("a", "succeeded"),
        ("b", "interrupted"),
        ("b", "succeeded"),
        ("c", "succeeded"),
    ]
    assert view.status is RunStatus.SUCCEEDED and view.finished_at is not None


def test_a_live_run_is_not_resumed_twice(catalog: Catalog) -> None:
    book = runbook(THREE)
    run_id = _crashed_run(catalog, book)
    live = subprocess.Popen(["sleep", "30"])
    try:
        with catalog.session() as session:
            session.get_one(RunRow, run_id).pid = live.pid
        with pytest.raises(RunNotResumable, match="still running"):
            resume_run(catalog, run_id, _loader(book), Settings(), RunRequest())
    finally:
        live.kill()
        live.wait()
    assert EVENTS == []


def test_a_failed_run_resumes_by_retrying_the_step_that_failed(catalog: Catalog) -> None:
    FAILURES["b"] = 1
    text = """
name: f
steps:
  - {id: a, action: fake.echo, with: {label: a}}
  - {id: b, action: fake.flaky, with: {label: b}}
  - {id: c, action: fake.echo, with: {label: c}}
"""
    first = run(catalog, text)
    assert first.report.status is RunStatus.FAILED and EVENTS == ["a", "b"]
    report = resume_run(
        catalog, first.report.run_id, _loader(runbook(text)), Settings(), RunRequest()
    )
    assert report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["a", "b", "b", "c"]
    with pytest.raises(RunNotResumable, match="succeeded"):
        resume_run(catalog, first.report.run_id, _loader(runbook(text)), Settings(), RunRequest())


def test_rerun_from_a_step_reuses_the_outputs_recorded_before_it(catalog: Catalog) -> None:
    book = runbook(THREE)
    first = run(catalog, THREE, inputs={"region": "us"})
    EVENTS.clear()
    report = rerun(catalog, first.report.run_id, "b", _loader(book), Settings(), RunRequest())
    assert report.run_id != first.report.run_id and report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["b-us", "c-0/AA"]
    view = get_run(catalog, report.run_id)
    assert view.trigger == "rerun" and view.result["rerun_of"] == first.report.run_id
    copied = view.steps[0]
    assert (copied.name, copied.status) == ("a", StepStatus.SKIPPED)
    assert copied.details["reused_from"] == first.report.run_id
    assert copied.details["outputs"] == {"lsn": "0/AA"}


def test_rerun_from_a_step_that_is_not_top_level_is_refused(catalog: Catalog) -> None:
    first = run(catalog, THREE, inputs={"region": "us"})
    with pytest.raises(RunbookError, match="not a top-level step"):
        rerun(catalog, first.report.run_id, "zz", _loader(runbook(THREE)), Settings(), RunRequest())


def _in_background(catalog: Catalog, text: str) -> tuple[threading.Thread, dict[str, object]]:
    box: dict[str, object] = {}

    def target() -> None:
        box["report"] = start_run(catalog, runbook(text), Settings(), RunRequest(poll_s=0.02))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _latest_run(catalog: Catalog) -> int:
    with catalog.session() as session:
        return max(row.id for row in session.query(RunRow))


def test_cancel_stops_the_running_step_and_the_run(catalog: Catalog) -> None:
    thread, box = _in_background(
        catalog,
        """
name: long
steps:
  - {id: wait, action: fake.gate, with: {label: g}}
  - {id: never, action: fake.echo, with: {label: never}}
""",
    )
    _wait_for(lambda: "g:start" in EVENTS)
    message = cancel(catalog, _latest_run(catalog), "alice")
    assert "asked run" in message
    thread.join(20)
    report = box["report"]
    assert report.status is RunStatus.CANCELLED  # type: ignore[attr-defined]
    view = get_run(catalog, report.run_id)  # type: ignore[attr-defined]
    assert view.status is RunStatus.CANCELLED and view.error == "cancelled by alice"
    assert [(s.name, s.status.value) for s in view.steps] == [("wait", "interrupted")]
    assert "never" not in EVENTS


MANUAL = """
name: approve
steps:
  - id: gate
    manual: {prompt: "Promote the replica?", approvers: [alice, bob], timeout: 30}
  - {id: after, action: fake.echo, with: {label: after}}
"""


def test_a_manual_step_that_nobody_approves_times_out_into_on_failure(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: timeout
steps:
  - {id: gate, manual: {prompt: ok?, timeout: 0.1}, on_failure: continue}
  - {id: after, action: fake.echo, with: {label: after}}
""",
    )
    assert ran.statuses() == [("gate", "failed"), ("after", "succeeded")]
    assert ran.view.steps[0].error == "no approval within 0.1s"


def test_a_rejection_fails_the_manual_step(catalog: Catalog) -> None:
    def reject(run_id: int, step: str, prompt: str) -> None:
        """The terminal prompt's contract: it sends the (signed-in) answer itself."""
        assert (step, prompt) == ("gate", "Promote the replica?")
        requests.send(catalog, run_id, requests.RequestKind.REJECT, actor="bob", step=step)

    anyone = MANUAL.replace(", approvers: [alice, bob]", "")
    report = start_run(catalog, runbook(anyone), Settings(), RunRequest(poll_s=0.02, prompt=reject))
    assert report.status is RunStatus.FAILED
    assert report.error is not None and "rejected by bob" in report.error
    assert requests.history(catalog, report.run_id)[0].kind is requests.RequestKind.REJECT
    assert GATES == {}


APPROVED = """
name: approved
steps:
  - {id: prepare, action: fake.echo, with: {label: prepare}}
  - id: go
    manual: {prompt: "Restore over production?", approvers: [alice]}
  - {id: restore, action: fake.echo, with: {label: restore}}
"""


def test_rerun_never_reuses_an_old_approval() -> None:
    from drkit.runbooks.journal import Phase, StepRecord
    from drkit.runbooks.replay import for_rerun

    old = [
        StepRecord(1, "prepare", Phase.MAIN, StepStatus.SUCCEEDED),
        StepRecord(2, "go", Phase.MAIN, StepStatus.SUCCEEDED, actor="alice"),
        StepRecord(3, "restore", Phase.MAIN, StepStatus.FAILED),
    ]
    kept = for_rerun(old, runbook(APPROVED), "restore")
    assert [r.step for r in kept] == ["prepare"]  # the approval is asked for again
