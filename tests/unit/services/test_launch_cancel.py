"""A launched run that reports progress is cancelled at its next report; one still waiting in
the queue never starts; a run that cannot be cancelled says so (False), never "asked"."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from drkit.catalog.runs import RunStatus, get_run
from drkit.services.launch import JournalProgress, Launcher
from drkit.services.workspace import Workspace
from tests.unit.services.repos import Filled

WAIT_S = 30.0


@dataclass(frozen=True)
class Counted:
    reports: int

    def to_json(self) -> dict[str, Any]:
        return {"reports": self.reports}


def _busy(started: threading.Event, reports: list[int]) -> Any:
    """An operation that reports progress until it is stopped (or for WAIT_S)."""

    def run(one: Workspace, progress: JournalProgress) -> Counted:
        progress.phase("working")
        started.set()
        ends = threading.Event()
        for n in range(int(WAIT_S / 0.01)):
            progress.advance(n)
            reports.append(n)
            ends.wait(0.01)
        return Counted(len(reports))

    return run


def test_a_running_operation_ends_cancelled_at_its_next_report(filled: Filled) -> None:
    launcher = Launcher(filled.workspace, workers=1)
    try:
        started, reports = threading.Event(), []
        run_id = launcher.launch("restore", "r", _busy(started, reports), cancellable=True)
        assert started.wait(WAIT_S)
        assert launcher.cancel(run_id, "ann")
        assert launcher.wait(run_id, WAIT_S)
        run = get_run(filled.workspace.catalog(), run_id)
        assert run.status is RunStatus.CANCELLED, run
        assert run.error == "cancelled by ann"
        assert run.result["error"]["code"] == "run-cancelled"
        assert len(reports) < WAIT_S / 0.01  # it stopped, it did not run to its end
        assert not launcher.cancel(run_id, "ann")  # ended: nothing left to cancel
    finally:
        launcher.shutdown()


def test_a_waiting_run_never_starts_and_a_plain_one_is_not_cancellable(filled: Filled) -> None:
    launcher = Launcher(filled.workspace, workers=1)
    try:
        started, reports = threading.Event(), []
        busy = launcher.launch("restore", "r", _busy(started, reports), cancellable=True)
        assert started.wait(WAIT_S)
        ran = threading.Event()

        def never(one: Workspace, progress: JournalProgress) -> Counted:
            ran.set()
            return Counted(0)

        waiting = launcher.launch("restore", "r", never, cancellable=True)
        plain = launcher.launch("job", "j", never)  # reports nothing: no cancel is promised
        assert launcher.cancel(waiting, "bob")
        assert not launcher.cancel(plain, "bob")
        assert launcher.cancel(busy, "bob")
        for run_id in (busy, waiting, plain):
            assert launcher.wait(run_id, WAIT_S)
        catalog = filled.workspace.catalog()
        assert get_run(catalog, waiting).status is RunStatus.CANCELLED
        assert get_run(catalog, waiting).steps == ()
        assert get_run(catalog, plain).status is RunStatus.SUCCEEDED
        assert ran.is_set()  # the plain run did run: only the cancelled one was skipped
    finally:
        launcher.shutdown()
