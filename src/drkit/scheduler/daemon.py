"""The daemon loop: start due jobs, never two runs of one job at once, stop cleanly.

Each tick reads the clock once, decides for every job with
:func:`drkit.scheduler.slots.decide`, and queues the due ones; a queued job
starts on a bounded pool of threads (each thread drives one job's `drkit`
processes) once no running job uses one of its repositories and the jobs it
needs (a restore test needs its policy's backup) are done, so the daemon's
own jobs never meet each other's locks. A job whose last run a stop
interrupted runs again at the next start. Periodic
duties (re-reading snapshot lists, evaluating alert rules) run between
ticks. A tick that fails is logged and the loop goes on; a stop request
interrupts running steps, records them, and returns.

With a ``gate`` (the control-plane lease, when two serves share a catalog),
only a daemon whose gate is open decides and starts jobs and runs the
active-only duties; before each start it claims the job's slot in the
catalog (:mod:`drkit.scheduler.claims`), so even two daemons that both
believe they are active run a slot once. The first tick after the gate
opens is a start-up tick: the schedules are taken over with their catch-ups.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from drkit.catalog import Catalog
from drkit.catalog.runs import close_abandoned
from drkit.catalog.types import utcnow
from drkit.repository.faults import crash_point
from drkit.scheduler.claims import claim_slot
from drkit.scheduler.executor import JobExecutor, JobResult, NotStarted
from drkit.scheduler.jobs import Job
from drkit.scheduler.slots import Decision, Trigger, decide, latest_slot, next_slot
from drkit.scheduler.state import has_succeeded, interrupted_jobs, load_slots, save_slot

log = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0  # wake at least this often (clock jumps, stop requests)


@dataclass
class Duty:
    """Something the daemon does every ``interval`` besides jobs (scan, monitor)."""

    name: str
    interval: timedelta
    action: Callable[[], object]
    due_at: datetime = field(default_factory=utcnow)
    active_only: bool = False  # with a gate: only while this daemon is the active one


class Gate(Protocol):
    """Whether this daemon may start jobs now (the control-plane lease)."""

    @property
    def name(self) -> str:
        """The name slot claims are made in (this serve's)."""
        ...

    def may_start(self) -> bool: ...


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
        housekeeping: Callable[[], object] | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.catalog = catalog
        self.jobs = list(jobs)
        self.executor = executor
        self.tz = tz or ZoneInfo("UTC")
        self.duties = list(duties)
        self.clock = clock
        self.housekeeping = housekeeping  # at start: what a killed daemon left behind
        self.gate = gate
        self._was_open = False
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self.max_parallel = max_parallel
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="drkit-job")
        self._running: dict[str, tuple[Job, Future[JobResult]]] = {}
        self._pending: dict[str, tuple[Job, Decision]] = {}  # due, waiting for a repository
        self._lock = threading.RLock()

    def serve(self) -> None:
        """Run until :meth:`stop`; then wait for the running steps to end."""
        self.start_up()
        while True:
            self._wake.wait(self._sleep_seconds())
            self._wake.clear()
            if self.stop_event.is_set():
                break
            self.tick(starting_up=False)
        self._shutdown()

    def start_up(self, *, run_duties: bool = True) -> list[Job]:
        """Close the runs a dead daemon left open, then start due and missed jobs."""
        closed = self._close_abandoned()
        if closed:
            log.warning("runs left unfinished by an earlier daemon marked interrupted: %s", closed)
        if self.housekeeping is not None:
            try:
                self.housekeeping()
            except Exception:
                log.exception("cleaning up after an earlier daemon failed; going on")
        return self.tick(starting_up=True, run_duties=run_duties)

    def stop(self) -> None:
        self.executor.stopping.set()
        self.stop_event.set()
        self._wake.set()

    def wake(self) -> None:
        """Tick now (the gate opened: take the schedules over without waiting)."""
        self._wake.set()

    def _close_abandoned(self) -> list[int]:
        # with a gate, another site's serve may be running jobs: close only our host's
        return close_abandoned(self.catalog, only_own_host=self.gate is not None)

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
        while True:
            self._launch_pending()
            with self._lock:
                futures = [f for _, f in self._running.values() if not f.done()]
                if not futures and (not self._pending or self.stop_event.is_set()):
                    return
            for future in futures:
                future.exception()
            if not futures:
                time.sleep(0.05)

    def running(self) -> list[str]:
        with self._lock:
            return [job for job, (_, fut) in self._running.items() if not fut.done()]

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def _gate_open(self) -> bool:
        return self.gate is None or self.gate.may_start()

    def _taking_over(self) -> bool:
        """True once when the gate opens after being shut; False without a gate."""
        was, self._was_open = self._was_open, True
        if self.gate is None or was:
            return False
        closed = self._close_abandoned()
        if closed:
            log.warning("runs left unfinished by a dead serve marked interrupted: %s", closed)
        return True

    def _start_due_jobs(self, starting_up: bool) -> list[Job]:
        if not self._gate_open():
            self._was_open = False
            return []
        starting_up = self._taking_over() or starting_up
        now = self.clock()
        slots = load_slots(self.catalog)
        again = interrupted_jobs(self.catalog) if starting_up else set()
        queued = []
        for job in self.jobs:
            if job.id in self._pending:
                continue  # queued for its slot already: its start (or a stop) decides that slot
            busy = job.id in self.running()
            decision = decide(
                job.schedule,
                slots.get(job.id),
                now,
                self.tz,
                running=busy,
                starting_up=starting_up,
            )
            if job.id in again and not decision.start and not busy:
                decision = Decision(
                    True,
                    latest_slot(job.schedule, now, self.tz),
                    Trigger.CATCH_UP,
                    "its last run was interrupted by a stop: running it again",
                )
            if self._queue(job, decision):
                queued.append(job)
        self._launch_pending()
        return queued

    def _queue(self, job: Job, decision: Decision) -> bool:
        """Queue a due job (it starts when its repositories are free); record skipped slots."""
        if decision.slot is None:
            return False
        if not decision.start:
            if decision.reason.startswith("skipped"):
                log.warning("%s: %s", job.id, decision.reason, extra={"job": job.id})
            save_slot(self.catalog, job.id, decision.slot)
            return False
        with self._lock:
            self._pending[job.id] = (job, decision)
        return True

    def _launch_pending(self) -> None:
        """Start queued jobs in order, never two on one repository, never past max_parallel.

        A queued job that never starts (the daemon stops first) is no run: its slot is not
        recorded, so the next start runs it as a catch-up.
        """
        with self._lock:
            if self.stop_event.is_set():
                return
            active = [j for j, f in self._running.values() if not f.done()]
            busy = {r for j in active for r in j.repositories}
            waiting = {j.id for j in active} | set(self._pending)
            for job, decision in list(self._pending.values()):
                if len(active) >= self.max_parallel:
                    break
                if any(n in waiting and n != job.id for n in job.needs):
                    continue  # the job it needs goes first
                conflict = busy & set(job.repositories)
                busy |= set(job.repositories)  # a later job never overtakes this one
                if conflict:
                    continue
                del self._pending[job.id]
                if self._needs_first_run(job, decision):
                    continue
                self._submit(job, decision)
                active.append(job)

    def _needs_first_run(self, job: Job, decision: Decision) -> bool:
        missing = [n for n in job.needs if not has_succeeded(self.catalog, n)]
        if not missing:
            return False
        assert decision.slot is not None
        log.warning("%s: skipped: waiting for a first successful %s", job.id, ", ".join(missing))
        save_slot(self.catalog, job.id, decision.slot)
        return True

    def _submit(self, job: Job, decision: Decision) -> None:
        assert decision.trigger is not None and decision.slot is not None
        if not self._claimed(job, decision.slot):
            return
        save_slot(self.catalog, job.id, decision.slot)
        log.info("%s: starting (%s)", job.id, decision.reason, extra={"job": job.id})
        future = self._pool.submit(
            self.executor.run, job, trigger=decision.trigger, slot=decision.slot
        )
        self._running[job.id] = (job, future)
        future.add_done_callback(functools.partial(self._finished, job, decision.slot))

    def _claimed(self, job: Job, slot: datetime) -> bool:
        """With a gate: still open, and this daemon won the slot's claim in the catalog."""
        if self.gate is None:
            return True
        if not self.gate.may_start():
            log.warning("%s: not starting: this serve is no longer active", job.id)
            return False
        crash_point("before-slot-claim")  # the tests freeze a serve here, sure it is active
        claim = claim_slot(self.catalog, job.id, slot, self.gate.name)
        if not claim.won:
            log.warning(
                "%s: not starting the %s slot: %s",
                job.id,
                f"{slot:%Y-%m-%d %H:%M}",
                claim.why_lost(),
                extra={"job": job.id},
            )
            save_slot(self.catalog, job.id, slot)
        return claim.won

    def _finished(self, job: Job, slot: datetime, future: Future[JobResult]) -> None:
        try:
            self._record(job, slot, future)
        finally:
            self._launch_pending()

    def _record(self, job: Job, slot: datetime, future: Future[JobResult]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if isinstance(exc, NotStarted):
            log.info("%s: not started: the daemon is stopping", job.id)
            return
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
        open_ = self._gate_open()
        for duty in self.duties:
            if now < duty.due_at or self.stop_event.is_set():
                continue
            if duty.active_only and not open_:
                continue  # due again the moment this daemon becomes active
            try:
                duty.action()
            except Exception:
                log.exception("%s failed; trying again in %s", duty.name, duty.interval)
            duty.due_at = now + duty.interval

    def _sleep_seconds(self) -> float:
        now = self.clock()
        wake = [next_slot(job.schedule, now, self.tz) for job in self.jobs]
        open_ = self._gate_open()
        wake += [d.due_at for d in self.duties if open_ or not d.active_only]
        if not wake:
            return MAX_SLEEP_S
        seconds = (min(wake) - now).total_seconds()
        return min(max(seconds, 0.05), MAX_SLEEP_S)

    def _shutdown(self) -> None:
        with self._lock:
            if self._pending:
                log.info("stopping: not starting the queued %s", ", ".join(self._pending))
            self._pending.clear()
        log.info("stopping: waiting for running steps to end")
        self._pool.shutdown(wait=True, cancel_futures=True)
