"""The daemon loop: start due jobs, never two runs of one job at once, stop cleanly.

Each tick reads the clock once, decides for every job with
:func:`drkit.scheduler.slots.decide`, and starts the due ones on a bounded
pool of threads (each thread drives one job's `drkit` processes). Periodic
duties (re-reading snapshot lists, evaluating alert rules) run between
ticks. A tick that fails is logged and the loop goes on; a stop request
interrupts running steps, records them, and returns.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from drkit.catalog import Catalog
from drkit.catalog.runs import close_abandoned
from drkit.catalog.types import utcnow
from drkit.scheduler.executor import JobExecutor, JobResult
from drkit.scheduler.jobs import Job
from drkit.scheduler.slots import Decision, decide, next_slot
from drkit.scheduler.state import load_slots, save_slot

log = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0  # wake at least this often (clock jumps, stop requests)


@dataclass
class Duty:
    """Something the daemon does every ``interval`` besides jobs (scan, monitor)."""

    name: str
    interval: timedelta
    action: Callable[[], object]
    due_at: datetime = field(default_factory=utcnow)


class Daemon:
    def __init__(
        self,
        catalog: Catalog,
        jobs: Sequence[Job],
        executor: JobExecutor,
        *,
        max_parallel: int = 2,
        tz: ZoneInfo | None = None,
        duties: Sequence[Duty] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.catalog = catalog
        self.jobs = list(jobs)
        self.executor = executor
        self.tz = tz or ZoneInfo("UTC")
        self.duties = list(duties)
        self.clock = clock
        self.stop_event = threading.Event()
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="drkit-job")
        self._running: dict[str, Future[JobResult]] = {}
        self._lock = threading.Lock()

    def serve(self) -> None:
        """Run until :meth:`stop`; then wait for the running steps to end."""
        self.start_up()
        while not self.stop_event.wait(self._sleep_seconds()):
            self.tick(starting_up=False)
        self._shutdown()

    def start_up(self, *, run_duties: bool = True) -> list[Job]:
        """Close the runs a dead daemon left open, then start due and missed jobs."""
        closed = close_abandoned(self.catalog)
        if closed:
            log.warning("runs left unfinished by an earlier daemon marked interrupted: %s", closed)
        return self.tick(starting_up=True, run_duties=run_duties)

    def stop(self) -> None:
        self.executor.stopping.set()
        self.stop_event.set()

    def tick(self, *, starting_up: bool, run_duties: bool = True) -> list[Job]:
        """Start every due job and run due duties; return the jobs started."""
        started: list[Job] = []
        try:
            started = self._start_due_jobs(starting_up)
        except Exception:
            log.exception("scheduler tick failed; trying again at the next tick")
        if run_duties:
            self._run_duties()
        return started

    def wait_idle(self) -> None:
        """Block until every started job has finished."""
        with self._lock:
            futures = list(self._running.values())
        for future in futures:
            future.exception()

    def running(self) -> list[str]:
        with self._lock:
            return [job for job, fut in self._running.items() if not fut.done()]

    def _start_due_jobs(self, starting_up: bool) -> list[Job]:
        now = self.clock()
        slots = load_slots(self.catalog)
        started = []
        for job in self.jobs:
            running = job.id in self.running()
            decision = decide(
                job.schedule,
                slots.get(job.id),
                now,
                self.tz,
                running=running,
                starting_up=starting_up,
            )
            if self._apply(job, decision):
                started.append(job)
        return started

    def _apply(self, job: Job, decision: Decision) -> bool:
        if decision.slot is None:
            return False
        if not decision.start:
            if decision.reason.startswith("skipped"):
                log.warning("%s: %s", job.id, decision.reason, extra={"job": job.id})
            save_slot(self.catalog, job.id, decision.slot)
            return False
        save_slot(self.catalog, job.id, decision.slot)
        assert decision.trigger is not None
        log.info("%s: starting (%s)", job.id, decision.reason, extra={"job": job.id})
        future = self._pool.submit(
            self.executor.run, job, trigger=decision.trigger, slot=decision.slot
        )
        with self._lock:
            self._running[job.id] = future
        future.add_done_callback(functools.partial(self._finished, job, decision.slot))
        return True

    def _finished(self, job: Job, slot: datetime, future: Future[JobResult]) -> None:
        exc = future.exception()
        if exc is not None:
            log.error("%s: the run could not be recorded: %s", job.id, exc, extra={"job": job.id})
            return
        result = future.result()
        save_slot(self.catalog, job.id, slot, result.run_id)
        log.info(
            "%s: run %d %s",
            job.id,
            result.run_id,
            result.status.value,
            extra={"job": job.id, "run_id": result.run_id},
        )

    def _run_duties(self) -> None:
        now = self.clock()
        for duty in self.duties:
            if now < duty.due_at or self.stop_event.is_set():
                continue
            try:
                duty.action()
            except Exception:
                log.exception("%s failed; trying again in %s", duty.name, duty.interval)
            duty.due_at = now + duty.interval

    def _sleep_seconds(self) -> float:
        now = self.clock()
        wake = [next_slot(job.schedule, now, self.tz) for job in self.jobs]
        wake += [duty.due_at for duty in self.duties]
        if not wake:
            return MAX_SLEEP_S
        seconds = (min(wake) - now).total_seconds()
        return min(max(seconds, 0.05), MAX_SLEEP_S)

    def _shutdown(self) -> None:
        log.info("stopping: waiting for running steps to end")
        self._pool.shutdown(wait=True, cancel_futures=True)
