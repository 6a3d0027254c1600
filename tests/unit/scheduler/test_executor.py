"""The executor's stop path: a stopped step leaves no kill timer behind, queued jobs no runs."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.runs import StepStatus
from drkit.catalog.tables import RunRow
from drkit.scheduler.executor import JobExecutor, NotStarted, _step_outcome
from drkit.scheduler.jobs import Job, JobKind, JobStep
from drkit.scheduler.slots import Trigger

CHILD = "import signal, sys, time\nprint('up', flush=True)\ntime.sleep(60)\n"


def executor(tmp_path: Path, timeout: timedelta = timedelta(hours=1)) -> JobExecutor:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    return JobExecutor(catalog, config_file=None, timeout=timeout)


def start_child() -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc


def test_a_stopped_step_leaves_no_kill_timer_running(tmp_path: Path) -> None:
    runner = executor(tmp_path)
    proc = start_child()
    runner.stopping.set()
    _, _, ended_by = runner._wait(proc)
    assert ended_by == "stop"
    assert proc.returncode != 0  # SIGINT ended it
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
    assert timers == []  # a pending timer kept the daemon alive for the whole grace period


def test_a_step_past_the_timeout_fails_and_a_stopped_one_is_interrupted() -> None:
    assert _step_outcome(1, "", "timeout")[0] is StepStatus.FAILED
    assert _step_outcome(1, "", "stop")[0] is StepStatus.INTERRUPTED
    assert _step_outcome(0, "", "stop")[0] is StepStatus.SUCCEEDED


def test_a_job_asked_to_run_while_stopping_records_no_run(tmp_path: Path) -> None:
    runner = executor(tmp_path)
    runner.stopping.set()
    job = Job("backup:app", JobKind.BACKUP, "app", "* * * * *", (JobStep("b", ("version",)),))
    with pytest.raises(NotStarted):
        runner.run(job, trigger=Trigger.SCHEDULE, slot=None)
    with runner.catalog.session() as session:
        assert list(session.scalars(select(RunRow))) == []


def test_steps_after_an_independent_failure_still_run_and_the_run_fails(tmp_path: Path) -> None:
    from drkit.catalog.runs import RunStatus

    runner = executor(tmp_path)
    first = JobStep("restore test a", ("no-such-command",), independent=True)
    second = JobStep("restore test b", ("jobs", "--help"), independent=True)  # exits 0
    job = Job("restore-test:app:local", JobKind.RESTORE_TEST, "app", "* * * * *", (first, second))
    result = runner.run(job, trigger=Trigger.SCHEDULE, slot=None)
    assert [r.status for r in result.steps] == [StepStatus.FAILED, StepStatus.SUCCEEDED]
    assert result.status is RunStatus.FAILED
    dependent = Job("backup:app", JobKind.BACKUP, "app", "* * * * *",
                    (JobStep("a", ("no-such-command",)), second))  # fmt: skip
    assert len(runner.run(dependent, trigger=Trigger.SCHEDULE, slot=None).steps) == 1


def test_a_run_the_caller_passes_is_left_for_the_caller_to_end(tmp_path: Path) -> None:
    """The API's launcher owns its run: ended twice, a reader could see it succeeded with the
    executor's partial result before the launcher's own."""
    from drkit.catalog.runs import RunJournal, RunStatus, get_run

    runner = executor(tmp_path)
    job = Job("backup:app", JobKind.BACKUP, "app", "* * * * *", (JobStep("b", ("jobs", "--help")),))
    journal = RunJournal.start(runner.catalog, kind="backup", subject="app", job=job.id)
    result = runner.run(job, trigger=Trigger.MANUAL, slot=None, journal=journal)
    assert result.status is RunStatus.SUCCEEDED
    assert get_run(runner.catalog, journal.run_id).status is RunStatus.RUNNING
    own = runner.run(job, trigger=Trigger.MANUAL, slot=None)  # its own run: ended here
    assert get_run(runner.catalog, own.run_id).status is RunStatus.SUCCEEDED
