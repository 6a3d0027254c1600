"""Running one job: its steps as `drkit` processes, journaled as they happen.

Each step is ``python -m drkit --quiet ARGV --json`` with ``DRKIT_RUN_ID`` set,
so commands that journal on their own (runbooks) write into this run. The
step's JSON goes into the journal's details, the tail of its stderr into
its output. A stop request (SIGTERM to the daemon) sends SIGINT to the
running step, which ends it cleanly; the step and the run are recorded as
interrupted (the daemon runs the job again at its next start), and the
remaining steps do not start. A step past the job timeout is stopped the
same way and recorded as failed. A job asked to run while the daemon is
stopping raises :class:`NotStarted` and records nothing.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.catalog.types import utcnow
from drkit.child import drkit_command, reported
from drkit.scheduler.jobs import Job, JobStep
from drkit.scheduler.lifeline import PARENT_ENV
from drkit.scheduler.slots import Trigger

log = logging.getLogger(__name__)

STOP_GRACE_S = 30.0  # after SIGINT, how long a step may take to finish cleanly


@dataclass(frozen=True)
class StepResult:
    step: JobStep
    status: StepStatus
    exit_code: int | None
    document: Any  # the step's parsed --json output, or None
    error: str | None
    started: datetime
    duration_s: float


@dataclass(frozen=True)
class JobResult:
    job: Job
    run_id: int
    status: RunStatus
    steps: tuple[StepResult, ...]


StepHook = Callable[[Job, StepResult], None]


class NotStarted(Exception):
    """The daemon was stopping before the job began: no run was recorded."""


class JobExecutor:
    """Runs jobs; safe to use from several threads (one job per thread)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        config_file: str | None,
        env: Mapping[str, str] | None = None,
        timeout: timedelta = timedelta(hours=12),
        on_step: StepHook | None = None,
    ) -> None:
        self.catalog = catalog
        self.config_file = config_file
        self.env = dict(os.environ if env is None else env)
        self.timeout = timeout
        self.on_step = on_step
        self.stopping = threading.Event()

    def run(
        self,
        job: Job,
        *,
        trigger: Trigger,
        slot: datetime | None,
        journal: RunJournal | None = None,
    ) -> JobResult:
        """Run ``job``'s steps into ``journal`` or into a new run.

        A ``journal`` the caller passes is the caller's run: the caller ends it (one
        terminal status with its whole result: a reader never sees it ended with a
        partial one); a new run is ended here.
        """
        if self.stopping.is_set():
            raise NotStarted(job.id)
        owned = journal is None
        journal = journal or RunJournal.start(
            self.catalog,
            kind=job.kind.value,
            subject=job.subject,
            trigger=trigger.value,
            job=job.id,
            scheduled_for=slot,
        )
        results: list[StepResult] = []
        for step in job.steps:
            if self.stopping.is_set():
                break
            result = self._run_step(journal, step)
            results.append(result)
            if self.on_step is not None:
                self._call_hook(job, result)
            if result.status is StepStatus.INTERRUPTED:
                break
            if result.status is not StepStatus.SUCCEEDED and not step.independent:
                break
        status = _run_status(results, len(job.steps), self.stopping.is_set())
        error = next((r.error for r in results if r.error), None)
        if owned:
            journal.finish(status, error=error, result={"steps": len(results)})
        return JobResult(job, journal.run_id, status, tuple(results))

    def _run_step(self, journal: RunJournal, step: JobStep) -> StepResult:
        step_id = journal.begin_step(step.name)
        started = utcnow()
        argv = self._argv(step)
        env = {**self.env, "DRKIT_RUN_ID": str(journal.run_id), PARENT_ENV: str(os.getpid())}
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            journal.end_step(step_id, StepStatus.FAILED, error=f"cannot start drkit: {exc}")
            return StepResult(step, StepStatus.FAILED, None, None, str(exc), started, 0.0)
        stdout, stderr, ended_by = self._wait(proc)
        document = _parse_json(stdout)
        status, error = _step_outcome(proc.returncode, stderr, ended_by)
        journal.end_step(
            step_id,
            status,
            output=stderr,
            error=error,
            details={"argv": argv[3:], "exit_code": proc.returncode, "result": document},
        )
        duration = (utcnow() - started).total_seconds()
        return StepResult(step, status, proc.returncode, document, error, started, duration)

    def _argv(self, step: JobStep) -> list[str]:
        return drkit_command(*step.argv, "--json", config_file=self.config_file)

    def _wait(self, proc: subprocess.Popen[str]) -> tuple[str, str, str | None]:
        """Wait for the step; on stop or timeout interrupt it, then kill it after a grace.

        Returns stdout, stderr and what ended the step early (``"stop"``, ``"timeout"``
        or None). The kill timer is cancelled as soon as the step ends: a pending
        timer would keep the daemon's process alive for the whole grace period.
        """
        outcome: dict[str, str] = {}
        reader = threading.Thread(target=_collect, args=(proc, outcome), daemon=True)
        reader.start()
        deadline = time.monotonic() + self.timeout.total_seconds()
        ended_by: str | None = None
        killer: threading.Timer | None = None
        try:
            while reader.is_alive():
                reader.join(0.2)
                if ended_by is None and (self.stopping.is_set() or time.monotonic() > deadline):
                    ended_by = "stop" if self.stopping.is_set() else "timeout"
                    _signal(proc, signal.SIGINT)
                    killer = threading.Timer(STOP_GRACE_S, _signal, (proc, signal.SIGKILL))
                    killer.daemon = True
                    killer.start()
            proc.wait()
        finally:
            if killer is not None:
                killer.cancel()
                killer.join()
        return outcome.get("stdout", ""), outcome.get("stderr", ""), ended_by

    def _call_hook(self, job: Job, result: StepResult) -> None:
        try:
            assert self.on_step is not None
            self.on_step(job, result)
        except Exception:  # a hook (catalog bookkeeping) never breaks a run
            log.exception("after step %s of %s", result.step.name, job.id)


def _collect(proc: subprocess.Popen[str], outcome: dict[str, str]) -> None:
    stdout, stderr = proc.communicate()
    outcome["stdout"], outcome["stderr"] = stdout, stderr


def _signal(proc: subprocess.Popen[str], sig: int) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def _parse_json(stdout: str) -> Any:
    try:
        return json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        return {"stdout": stdout[-4096:]}


def _step_outcome(code: int, stderr: str, ended_by: str | None) -> tuple[StepStatus, str | None]:
    """A stop interrupts a step (it runs again at the next start); a timeout fails it."""
    if code == 0:
        return StepStatus.SUCCEEDED, None
    error = reported(stderr) or f"exit code {code}"
    if ended_by == "stop":
        return StepStatus.INTERRUPTED, f"interrupted ({error})"
    if ended_by == "timeout":
        return StepStatus.FAILED, f"timed out ({error})"
    return StepStatus.FAILED, error


def _run_status(results: list[StepResult], planned: int, stopping: bool) -> RunStatus:
    if any(r.status is StepStatus.INTERRUPTED for r in results):
        return RunStatus.INTERRUPTED
    if any(r.status is StepStatus.FAILED for r in results):
        return RunStatus.FAILED
    if len(results) < planned:
        return RunStatus.INTERRUPTED if stopping else RunStatus.FAILED
    return RunStatus.SUCCEEDED
