"""The daemon loop with a fake clock and a recording executor: no overlap, catch-up once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus
from drkit.scheduler.daemon import Daemon, Duty
from drkit.scheduler.executor import JobResult
from drkit.scheduler.jobs import Job, JobKind, JobStep
from drkit.scheduler.slots import Trigger
from drkit.scheduler.state import load_slots, save_slot

JOB = Job("backup:app", JobKind.BACKUP, "app", "*/5 * * * *", (JobStep("backup", ("true",)),))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class GatedExecutor:
    """Records every start; each run blocks until released."""

    def __init__(self) -> None:
        self.started: list[tuple[str, Trigger, datetime | None]] = []
        self.release = threading.Event()
        self.stopping = threading.Event()

    def run(self, job: Job, *, trigger: Trigger, slot: datetime | None) -> JobResult:
        self.started.append((job.id, trigger, slot))
        self.release.wait(10)
        return JobResult(job, len(self.started), RunStatus.SUCCEEDED, ())


def make(tmp_path: Path, now: datetime) -> tuple[Daemon, GatedExecutor, Clock, Catalog]:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    executor = GatedExecutor()
    clock = Clock(now)
    daemon = Daemon(catalog, [JOB], executor, clock=clock)  # type: ignore[arg-type]
    return daemon, executor, clock, catalog


START = datetime(2026, 11, 24, 10, 2, tzinfo=UTC)


def test_a_new_job_waits_for_its_next_slot(tmp_path: Path) -> None:
    daemon, executor, clock, catalog = make(tmp_path, START)
    assert daemon.tick(starting_up=True) == []
    assert load_slots(catalog)["backup:app"] == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock.now = START + timedelta(minutes=3)  # 10:05 slot
    executor.release.set()
    assert daemon.tick(starting_up=False) == [JOB]
    daemon.wait_idle()
    assert executor.started == [("backup:app", Trigger.SCHEDULE, clock.now.replace(minute=5))]


def test_missed_slots_run_once_at_start(tmp_path: Path) -> None:
    daemon, executor, _, catalog = make(tmp_path, START)
    save_slot(catalog, "backup:app", START - timedelta(hours=5))  # down for 5 hours
    executor.release.set()
    assert daemon.tick(starting_up=True) == [JOB]
    daemon.wait_idle()
    assert daemon.tick(starting_up=False) == []
    assert [t for _, t, _ in executor.started] == [Trigger.CATCH_UP]


def test_two_runs_of_one_job_never_overlap(tmp_path: Path) -> None:
    daemon, executor, clock, catalog = make(tmp_path, START)
    save_slot(catalog, "backup:app", START - timedelta(minutes=7))
    assert daemon.tick(starting_up=False) == [JOB]  # 10:00 slot starts and hangs
    clock.now = START + timedelta(minutes=3)  # 10:05 slot while the first still runs
    assert daemon.tick(starting_up=False) == []
    assert daemon.running() == ["backup:app"]
    executor.release.set()
    daemon.wait_idle()
    clock.now = START + timedelta(minutes=4)
    assert daemon.tick(starting_up=False) == []  # the skipped slot is not run late
    assert len(executor.started) == 1


def test_a_failing_duty_does_not_stop_the_loop(tmp_path: Path) -> None:
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("boom")

    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    clock = Clock(START)
    duties = [
        Duty("broken", timedelta(minutes=1), broken, START),
        Duty("fine", timedelta(minutes=1), lambda: calls.append("fine"), START),
    ]
    daemon = Daemon(catalog, [], GatedExecutor(), clock=clock, duties=duties)  # type: ignore[arg-type]
    daemon.tick(starting_up=True)
    clock.now += timedelta(minutes=1)
    daemon.tick(starting_up=False)
    assert calls == ["broken", "fine", "broken", "fine"]
