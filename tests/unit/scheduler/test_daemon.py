"""The daemon loop with a fake clock and a recording executor: no overlap, catch-up once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus
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
    """Records every start; each run blocks until released, and is journaled when a catalog
    is given (the daemon reads how runs ended)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.started: list[tuple[str, Trigger, datetime | None]] = []
        self.release = threading.Event()
        self.stopping = threading.Event()
        self.catalog = catalog
        self.status = RunStatus.SUCCEEDED

    def run(self, job: Job, *, trigger: Trigger, slot: datetime | None) -> JobResult:
        self.started.append((job.id, trigger, slot))
        self.release.wait(10)
        if self.catalog is None:
            return JobResult(job, len(self.started), RunStatus.SUCCEEDED, ())
        journal = RunJournal.start(self.catalog, kind=job.kind.value, job=job.id)
        journal.finish(self.status)
        return JobResult(job, journal.run_id, self.status, ())


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


BACKUP = Job(
    "backup:app",
    JobKind.BACKUP,
    "app",
    "*/5 * * * *",
    (JobStep("backup", ("true",)),),
    repositories=("r1", "r2"),
)
CACHE = Job(
    "backup:cache",
    JobKind.BACKUP,
    "cache",
    "*/5 * * * *",
    (JobStep("backup", ("true",)),),
    repositories=("r2",),
)
RESTORE = Job(
    "restore-test:app:r3",
    JobKind.RESTORE_TEST,
    "app",
    "*/5 * * * *",
    (JobStep("restore test", ("true",)),),
    repository="r3",
    repositories=("r3",),
    needs=("backup:app",),
)


def with_jobs(
    tmp_path: Path, jobs: list[Job], journaled: bool = True
) -> tuple[Daemon, GatedExecutor, Catalog]:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    executor = GatedExecutor(catalog if journaled else None)
    daemon = Daemon(catalog, jobs, executor, clock=Clock(START), max_parallel=4)  # type: ignore[arg-type]
    for job in jobs:
        save_slot(catalog, job.id, START - timedelta(minutes=7))  # the 10:00 slot is due
    return daemon, executor, catalog


def test_jobs_sharing_a_repository_run_one_after_the_other(tmp_path: Path) -> None:
    daemon, executor, _ = with_jobs(tmp_path, [BACKUP, CACHE])
    assert daemon.tick(starting_up=False) == [BACKUP, CACHE]
    assert daemon.running() == ["backup:app"]
    assert daemon.pending() == ["backup:cache"]  # r2 is busy
    executor.release.set()
    daemon.wait_idle()
    assert [job for job, _, _ in executor.started] == ["backup:app", "backup:cache"]
    assert daemon.pending() == []


def test_a_restore_test_waits_for_its_policys_backup(tmp_path: Path) -> None:
    daemon, executor, _ = with_jobs(tmp_path, [BACKUP, RESTORE])
    daemon.tick(starting_up=True)
    assert daemon.running() == ["backup:app"]  # r3 is free, but the backup goes first
    assert daemon.pending() == ["restore-test:app:r3"]
    executor.release.set()
    daemon.wait_idle()
    assert [job for job, _, _ in executor.started] == ["backup:app", "restore-test:app:r3"]


def test_a_restore_test_without_a_good_backup_yet_skips_its_slot(tmp_path: Path) -> None:
    daemon, executor, catalog = with_jobs(tmp_path, [RESTORE])
    executor.release.set()
    assert daemon.tick(starting_up=False) == [RESTORE]
    daemon.wait_idle()
    assert executor.started == []
    assert load_slots(catalog)["restore-test:app:r3"] == START.replace(minute=0)


def test_jobs_still_queued_at_a_stop_are_no_runs_and_catch_up_at_the_next_start(
    tmp_path: Path,
) -> None:
    daemon, executor, catalog = with_jobs(tmp_path, [BACKUP, CACHE])
    daemon.tick(starting_up=False)
    daemon.tick(starting_up=False)  # a second look at a queued job records no skipped slot
    assert daemon.pending() == ["backup:cache"]
    daemon.stop()
    executor.release.set()
    daemon._shutdown()
    assert [job for job, _, _ in executor.started] == ["backup:app"]
    assert load_slots(catalog)["backup:cache"] == START - timedelta(minutes=7)  # not done

    executor2 = GatedExecutor(catalog)
    executor2.release.set()
    again = Daemon(catalog, [BACKUP, CACHE], executor2, clock=Clock(START))  # type: ignore[arg-type]
    again.start_up(run_duties=False)
    again.wait_idle()
    assert executor2.started == [("backup:cache", Trigger.CATCH_UP, START.replace(minute=0))]


def test_a_job_a_stop_interrupted_runs_again_at_the_next_start(tmp_path: Path) -> None:
    daemon, executor, catalog = with_jobs(tmp_path, [BACKUP])
    executor.status = RunStatus.INTERRUPTED
    executor.release.set()
    daemon.tick(starting_up=False)
    daemon.wait_idle()
    assert load_slots(catalog)["backup:app"] == START.replace(minute=0)  # its slot is recorded

    executor2 = GatedExecutor(catalog)
    executor2.release.set()
    again = Daemon(catalog, [BACKUP], executor2, clock=Clock(START))  # type: ignore[arg-type]
    again.start_up(run_duties=False)
    again.wait_idle()
    assert [(job, trigger) for job, trigger, _ in executor2.started] == [
        ("backup:app", Trigger.CATCH_UP)
    ]
    again.start_up(run_duties=False)  # it succeeded now: nothing runs a third time
    again.wait_idle()
    assert len(executor2.started) == 1
