"""The daemon's scheduled jobs, next start and last slot (`drkit jobs --json`, the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from drkit.scheduler.jobs import plan_jobs
from drkit.scheduler.slots import next_slot
from drkit.scheduler.state import load_slots
from drkit.services.workspace import Workspace


def job_rows(workspace: Workspace, now: datetime) -> list[dict[str, Any]]:
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
