"""An experiment as a runbook: Chaos Toolkit's order and rules written as drkit steps.

    before-N-*    the hypothesis probes: each runs only if the previous one met its tolerance
    method-N-*    the method: runs only if the hypothesis held before; failures do not stop it
    after-N-*     the hypothesis again: deviation is a probe here not meeting its tolerance
    rollback-N-*  the rollbacks, when the rollback strategy says so

Rollback strategies are chaostoolkit-lib's: ``default`` (play them unless
the run failed, which is a hypothesis probe that raised an error; a steady
state not met, before or after, is a completed run and plays them),
``always``, ``never`` and ``deviated`` (only when it deviated). An empty
method is allowed: the hypothesis is checked before and after nothing. Every step continues on
failure, as activities do in Chaos Toolkit; the verdict is computed from the
journal (:mod:`.journal`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from drkit.runbooks.chaostoolkit.experiment import LoadedExperiment
from drkit.runbooks.loader import LoadedRunbook, parse_runbook


class RollbackStrategy(StrEnum):
    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"
    DEVIATED = "deviated"


def slug(text: str, limit: int = 40) -> str:
    found = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return found[:limit].strip("-") or "x"


def phase_of(step_id: str) -> str:
    return step_id.split("-", 1)[0]


def to_runbook(loaded: LoadedExperiment, strategy: RollbackStrategy) -> LoadedRunbook:
    """The runbook (checked like any runbook file) that runs the experiment."""
    experiment = loaded.experiment
    configuration = experiment.resolved_configuration()
    steps = _Builder(configuration)
    probes = loaded.raw_activities("hypothesis")
    before = steps.chain("before", probes, gate=None, tolerance=True)
    held = _met(before[-1]) if before else None
    steps.add_all("method", loaded.raw_activities("method"), when=held)
    after = steps.chain("after", probes, gate=held, tolerance=True)
    stayed = _met(after[-1]) if after else None
    if strategy is not RollbackStrategy.NEVER:
        when = _rollback_condition(strategy, held, stayed, [*before, *after])
        steps.add_all("rollback", loaded.raw_activities("rollbacks"), when=when)
    document = {
        "name": f"chaos-{slug(experiment.title)}",
        "description": _description(loaded),
        "steps": steps.steps,
    }
    return parse_runbook(_yaml(document), Path(f"{document['name']}.yaml"))


def _met(step_id: str) -> str:
    return f"steps.{step_id}.outputs.tolerance_met == 'true'"


def _rollback_condition(
    strategy: RollbackStrategy, held: str | None, stayed: str | None, probes: list[str]
) -> str:
    if strategy is RollbackStrategy.ALWAYS:
        return ""
    if strategy is RollbackStrategy.DEFAULT:  # unless the run failed: a probe raised
        return " and ".join(f"steps.{p}.status != 'failed'" for p in probes)
    if not stayed:
        return "false"  # no hypothesis: it cannot deviate
    return f"({held}) and not ({stayed})"


class _Builder:
    def __init__(self, configuration: dict[str, str]) -> None:
        self.configuration = configuration
        self.steps: list[dict[str, Any]] = []

    def chain(
        self, phase: str, activities: list[dict[str, Any]], *, gate: str | None, tolerance: bool
    ) -> list[str]:
        """Probes that each run only if the one before met its tolerance."""
        ids: list[str] = []
        for i, activity in enumerate(activities, 1):
            when = _met(ids[-1]) if ids else gate
            ids.append(self.add(phase, i, activity, when=when, tolerance=tolerance))
        return ids

    def add_all(self, phase: str, activities: list[dict[str, Any]], *, when: str | None) -> None:
        for i, activity in enumerate(activities, 1):
            self.add(phase, i, activity, when=when, tolerance=False)

    def add(
        self, phase: str, index: int, activity: dict[str, Any], *, when: str | None, tolerance: bool
    ) -> str:
        step_id = f"{phase}-{index}-{slug(str(activity.get('name', 'activity')))}"
        step: dict[str, Any] = {
            "id": step_id,
            "name": str(activity.get("name", step_id)),
            "description": f"Chaos Toolkit {activity.get('type', 'activity')} ({phase}).",
            "action": "chaostoolkit.activity",
            "with": {
                "activity": activity,
                "check_tolerance": tolerance,
                "configuration": self.configuration,
            },
            "on_failure": "continue",
        }
        if when:
            step["when"] = when
        self.steps.append(step)
        return step_id


def _description(loaded: LoadedExperiment) -> str:
    experiment = loaded.experiment
    text = f"Chaos Toolkit experiment **{experiment.title}** ({loaded.path.name})."
    return f"{text}\n\n{experiment.description}".strip()


def _yaml(document: dict[str, Any]) -> str:
    import io

    stream = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(document, stream)
    return stream.getvalue()
