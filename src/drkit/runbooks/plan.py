"""What a runbook would do, step by step, without doing any of it: dry runs and guides.

Each step becomes a :class:`PlanItem` numbered as an operator reads it
(``3``, ``3.1`` for the members of a parallel group, ``R1`` for rollback
steps), with the one-line ``describe()`` of its action. Only the inputs are
known before a run, so ``${{ steps... }}`` stays as written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ValidationError

from drkit.runbooks import template
from drkit.runbooks.actions.registry import get_action
from drkit.runbooks.durations import duration_text
from drkit.runbooks.execute import ActionPlan
from drkit.runbooks.model import FailurePolicy, Runbook, Step


class ItemKind(StrEnum):
    ACTION = "action"
    MANUAL = "manual"
    PARALLEL = "parallel"


@dataclass(frozen=True)
class PlanItem:
    number: str
    step: Step
    kind: ItemKind
    does: str
    members: tuple[PlanItem, ...] = ()
    rollback: tuple[PlanItem, ...] = field(default=())

    @property
    def conditions(self) -> list[str]:
        """Timeout, retries, when and on_failure as short phrases."""
        step = self.step
        found = [f"only if {step.when}"] if step.when else []
        if step.timeout:
            found.append(f"timeout {duration_text(step.timeout)}")
        if step.retries.count:
            count = step.retries.count
            found.append(f"{count} retr{'y' if count == 1 else 'ies'}")
        if step.failure_policy is not FailurePolicy.ABORT:
            found.append(f"on failure: {step.on_failure}")
        return found

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "id": self.step.id,
            "title": self.step.title,
            "kind": self.kind.value,
            "does": self.does,
            "conditions": self.conditions,
            "members": [m.as_json() for m in self.members],
            "rollback": [r.as_json() for r in self.rollback],
        }


def plan(runbook: Runbook, inputs: Mapping[str, str]) -> list[PlanItem]:
    known = {f"inputs.{k}": v for k, v in inputs.items()}
    return [_item(str(i), step, known) for i, step in enumerate(runbook.steps, 1)]


def _item(number: str, step: Step, known: Mapping[str, str]) -> PlanItem:
    rollback = tuple(
        _item(f"{number}.R{i}", undo, known) for i, undo in enumerate(step.rollback, 1)
    )
    if step.parallel:
        members = tuple(
            _item(f"{number}.{i}", member, known) for i, member in enumerate(step.parallel, 1)
        )
        does = f"run {len(members)} steps at the same time"
        return PlanItem(number, step, ItemKind.PARALLEL, does, members, rollback)
    kind = ItemKind.MANUAL if step.manual else ItemKind.ACTION
    return PlanItem(number, step, kind, describe_step(step, known), rollback=rollback)


def describe_step(step: Step, known: Mapping[str, str]) -> str:
    """The action's own one-line description, with what is known substituted."""
    action_plan = ActionPlan.of(step)
    action = get_action(action_plan.action)()
    raw = template.substitute_known(action_plan.args, known)
    try:
        return action.describe(action.Args.model_validate(raw))
    except (ValidationError, ValueError):
        return f"{action_plan.action} {json.dumps(raw, default=str)}"
