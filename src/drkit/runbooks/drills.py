"""Scheduled drills: the jobs the daemon runs for ``runbooks.drills`` in drkit.yaml.

Each drill is one job whose only step is ``drkit runbook run NAME --drill
[--input K=V ...]`` (the daemon adds ``--json`` and sets ``DRKIT_RUN_ID``,
so the runbook's steps land in the daemon's run of kind ``drill``). That
command exits 61 when a step failed the drill and 62 when the drill
succeeded but took longer than the runbook's RTO; the daemon records the
step as failed either way and raises its alert. ``drkit runbook stats NAME
--drills`` shows the recovery times over the drills.

Each drill has its own job id, hence its own schedule record and lock: the
first drill of a runbook is ``drill:NAME``, the next ``drill:NAME:2``, ...
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.settings.model import Settings
from drkit.settings.runbooks import DrillSettings

DRILL_KIND = "drill"


@dataclass(frozen=True)
class DrillJob:
    """One scheduled drill: the job id, the runbook, its cron schedule and the drkit argv."""

    id: str
    runbook: str
    schedule: str
    argv: tuple[str, ...]


def drill_argv(drill: DrillSettings) -> tuple[str, ...]:
    inputs = [arg for k, v in sorted(drill.inputs.items()) for arg in ("--input", f"{k}={v}")]
    return ("runbook", "run", drill.runbook, "--drill", *inputs)


def drill_jobs(settings: Settings) -> list[DrillJob]:
    """Every drill of ``settings``; a second drill of one runbook is ``drill:NAME:2``."""
    jobs: list[DrillJob] = []
    seen: dict[str, int] = {}
    for drill in settings.runbooks.drills:
        seen[drill.runbook] = seen.get(drill.runbook, 0) + 1
        suffix = f":{seen[drill.runbook]}" if seen[drill.runbook] > 1 else ""
        job_id = f"{DRILL_KIND}:{drill.runbook}{suffix}"
        jobs.append(DrillJob(job_id, drill.runbook, drill.schedule, drill_argv(drill)))
    return jobs
