"""The daemon's scheduled jobs, next start and last slot (`drkit jobs --json`, the API)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from drkit.catalog.views import RunStatus
from drkit.errors import DrkitError, UsageError
from drkit.scheduler.jobs import Job, plan_jobs
from drkit.scheduler.slots import next_slot
from drkit.scheduler.state_quick import quick_slots
from drkit.services.workspace import Workspace

if TYPE_CHECKING:  # SQLAlchemy only for a job run, or a catalog the quick read leaves
    from drkit.catalog.runs import RunJournal


def job_rows(workspace: Workspace, now: datetime) -> list[dict[str, Any]]:
    """Every scheduled job with its next start and last slot; a current SQLite catalog is read
    with sqlite3 (:mod:`drkit.scheduler.state_quick`), any other through the ORM."""
    slots = quick_slots(workspace.catalog_url())
    if slots is None:
        from drkit.scheduler.state import load_slots

        slots = load_slots(workspace.catalog())
    return [
        {
            "job": j.id,
            "kind": j.kind.value,
            "subject": j.subject,
            "schedule": j.schedule,
            "next": next_slot(j.schedule, now, ZoneInfo("UTC")),
            "last_slot": slots.get(j.id),
            "steps": [" ".join(s.argv) for s in j.steps],
        }
        for j in plan_jobs(workspace.settings)
    ]


@dataclass(frozen=True)
class JobRun:
    """A job run now (`drkit run-job --json`): its run and how it ended."""

    run: int
    status: RunStatus
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "status": self.status.value}

    def failure(self) -> DrkitError | None:
        if self.status is RunStatus.SUCCEEDED:
            return None
        return JobFailed(
            f"the job's run {self.status.value}: {self.error or 'see its steps'}",
            hint=f"`drkit runs show {self.run}` has each step's output and error",
        )


class JobFailed(DrkitError):
    code = "job-failed"
    exit_code = 1


def find_job(workspace: Workspace, job_id: str) -> Job:
    """The scheduled job ``job_id`` (a usage error naming the jobs there are)."""
    planned = plan_jobs(workspace.settings)
    for job in planned:
        if job.id == job_id:
            return job
    raise JobNotFound(
        f"no job {job_id!r}",
        hint=f"scheduled jobs: {', '.join(j.id for j in planned) or 'none'} (`drkit jobs`)",
    )


class JobNotFound(UsageError):
    code = "job-not-found"


def run_job(
    workspace: Workspace,
    job: Job,
    journal: RunJournal | None = None,
    stopping: threading.Event | None = None,
) -> JobRun:
    """Run ``job`` now into ``journal`` (a new run when None; its steps as `drkit` processes,
    as the daemon does), then re-read the snapshot lists of what it changed; ``stopping``
    interrupts its steps."""
    from drkit.monitor.scan import scan_repositories
    from drkit.scheduler.executor import JobExecutor
    from drkit.scheduler.record import StepRecorder
    from drkit.scheduler.slots import Trigger

    config = workspace.settings_file
    config_file = os.fspath(config.resolve()) if config is not None else None
    catalog = workspace.catalog()

    def rescan(names: list[str]) -> None:
        scan_repositories(catalog, names, config_file)

    def repositories_of(j: Job) -> list[str]:
        if j.repository:
            return [j.repository]
        policy = workspace.settings.policies.get(j.subject)
        return list(policy.repositories) if policy else sorted(workspace.settings.repositories)

    executor = JobExecutor(
        catalog,
        config_file=config_file,
        timeout=workspace.settings.daemon.job_timeout,
        on_step=StepRecorder(catalog, rescan, repositories_of),
    )
    if stopping is not None:
        executor.stopping = stopping
    result = executor.run(job, trigger=Trigger.MANUAL, slot=None, journal=journal)
    error = next((s.error for s in result.steps if s.error), None)
    return JobRun(result.run_id, result.status, error)
