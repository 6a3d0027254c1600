"""A drkit run of an experiment, written as Chaos Toolkit's journal.

The fields are Chaos Toolkit's: ``status`` (completed, failed, aborted,
interrupted), ``deviated``, ``start``/``end``/``duration``, ``steady_states``
(before/after, each with ``steady_state_met`` and its probes' runs), ``run``
(the method) and ``rollbacks``; every activity run has ``activity``,
``status``, ``output``, ``start``, ``end``, ``duration``, ``exception`` when
it failed and ``tolerance_met`` for hypothesis probes. A ``drkit`` key adds
the run id and runbook version, so the journal leads back to the catalog.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from typing import Any

from drkit import __version__
from drkit.catalog.runs import RunStatus, RunView, StepStatus, StepView
from drkit.runbooks.chaostoolkit.mapping import phase_of
from drkit.runbooks.model import Runbook

_RAN = (StepStatus.SUCCEEDED, StepStatus.FAILED)


def ctk_journal(view: RunView, runbook: Runbook, experiment: dict[str, Any]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {
        phase: [] for phase in ("before", "method", "after", "rollback")
    }
    for row in view.steps:
        step_id = row.details.get("step")
        if isinstance(step_id, str) and row.status in _RAN and row.details.get("phase") == "main":
            runs[phase_of(step_id)].append(_activity_run(row, runbook, step_id))
    probes = _probe_count(runbook)
    before = _steady_state(runs["before"], probes)
    after = _steady_state(runs["after"], probes) if runs["after"] else None
    deviated = after is not None and not after["steady_state_met"]
    probes_ran = [*runs["before"], *runs["after"]]
    return {
        "chaoslib-version": chaoslib_version(),
        "platform": platform.platform(),
        "node": view.host,
        "experiment": experiment,
        "start": _time(view.started_at),
        "end": _time(view.finished_at),
        "duration": view.duration_s,
        "status": _status(view.status, probes_ran),
        "deviated": deviated,
        "steady_states": {"before": before, "after": after, "during": []},
        "run": runs["method"],
        "rollbacks": runs["rollback"],
        "drkit": {
            "run_id": view.id,
            "runbook": runbook.name,
            "version": runbook.version,
            "drkit_version": __version__,
            "steady_state_met_before": before is None or before["steady_state_met"],
        },
    }


def _activity_run(row: StepView, runbook: Runbook, step_id: str) -> dict[str, Any]:
    step = runbook.step(step_id)
    outputs = row.details.get("outputs") or {}
    run: dict[str, Any] = {
        "activity": step.with_.get("activity"),
        "status": "succeeded" if row.status is StepStatus.SUCCEEDED else "failed",
        "output": json.loads(outputs["ctk_output"]) if "ctk_output" in outputs else None,
        "start": _time(row.started_at),
        "end": _time(row.finished_at),
        "duration": row.duration_s,
    }
    if row.status is StepStatus.FAILED:
        run["exception"] = [row.error or "failed"]
    if phase_of(step_id) in ("before", "after"):
        run["tolerance_met"] = outputs.get("tolerance_met") == "true"
    return run


def _probe_count(runbook: Runbook) -> int:
    return sum(1 for step in runbook.steps if phase_of(step.id) == "before")


def _steady_state(runs: list[dict[str, Any]], probes: int) -> dict[str, Any] | None:
    if probes == 0:
        return None
    met = len(runs) == probes and all(r.get("tolerance_met") for r in runs)
    return {"steady_state_met": met, "probes": runs}


def _status(status: RunStatus, probes: list[dict[str, Any]]) -> str:
    """chaostoolkit-lib's rule: a steady state not met is still ``completed`` (``deviated``
    says the rest); ``failed`` is a hypothesis probe that raised an error."""
    if status in (RunStatus.CANCELLED, RunStatus.INTERRUPTED):
        return "interrupted"
    if status is RunStatus.RUNNING:
        return "aborted"
    if any(probe["status"] != "succeeded" for probe in probes):
        return "failed"
    return "completed"


def chaoslib_version() -> str:
    """The installed chaostoolkit-lib's version (as chaos writes it), else drkit's own."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chaostoolkit-lib")
    except PackageNotFoundError:
        return __version__


def _time(value: datetime | None) -> str | None:
    """As chaostoolkit-lib writes them: ISO times in UTC with their offset (``+00:00``)."""
    return value.astimezone(UTC).isoformat() if value is not None else None
