"""The runbook file format: typed, frozen models that reject unknown keys.

```yaml
name: restore-app
description: Bring the app back from the newest backup.
rto: 1h
inputs:
  target: {description: where to restore, default: /srv/app}
steps:
  - id: check
    action: drkit.check
    timeout: 10m
    retries: {count: 2, backoff: 5s, max: 1m}
  - id: approve
    manual: {prompt: "Stop the old app servers?", timeout: 30m, approvers: [alice, bob]}
  - id: restore
    action: drkit.restore
    with: {snapshot: latest, target: "${{ inputs.target }}"}
    on_failure: rollback
    rollback:
      - {id: cleanup, action: shell, with: {command: "rm -rf ${{ inputs.target }}.partial"}}
```

Checks across steps (unique ids, goto targets, names used in expressions,
action arguments) live in :mod:`drkit.runbooks.check`; these models check
one value at a time.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from drkit.errors import UsageError
from drkit.policy.objectives import parse_objective
from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.template import compiled
from drkit.settings.policies import Objective
from drkit.settings.runbooks import RunbookName

STEP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_ON_FAILURE = re.compile(r"abort|continue|rollback|goto:[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^(\d+(\.\d+)?|(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$"},
    ],
    "description": "Seconds, or a duration such as 30s, 5m, 1h30m.",
}
_OBJECTIVE_SCHEMA = {
    "type": "string",
    "pattern": r"^(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$",
    "description": "A duration such as 15m, 4h or 1d12h.",
}


def _duration(value: Any) -> Any:
    """30, "30", "30s", "1h30m" -> timedelta; zero is allowed (no backoff)."""
    if isinstance(value, bool):
        raise PydanticCustomError("duration", "a duration is seconds or text such as 30s or 5m")
    if isinstance(value, int | float):
        if value < 0:
            raise PydanticCustomError("duration", "a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        try:
            return parse_objective(value)
        except UsageError as exc:
            raise PydanticCustomError(
                "duration", "{problem} ({hint})", {"problem": exc.message, "hint": exc.hint}
            ) from None
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]


def _step_id(value: str) -> str:
    if STEP_ID.fullmatch(value) is None:
        raise PydanticCustomError(
            "step_id", "a step id is letters, digits, '_' and '-', starting with a letter or digit"
        )
    return value


def _expression(value: str) -> str:
    try:
        compiled(value)
    except RunbookInvalid as exc:
        raise PydanticCustomError("expression", "{problem}", {"problem": exc.message}) from None
    return value


def _on_failure(value: str) -> str:
    if _ON_FAILURE.fullmatch(value) is None:
        raise PydanticCustomError(
            "on_failure", "on_failure is abort, continue, rollback or goto:STEP_ID"
        )
    return value


StepId = Annotated[
    str,
    AfterValidator(_step_id),
    WithJsonSchema({"type": "string", "pattern": f"^{STEP_ID.pattern}$"}),
]
Expression = Annotated[str, AfterValidator(_expression)]
OnFailure = Annotated[
    str,
    AfterValidator(_on_failure),
    WithJsonSchema({"type": "string", "pattern": f"^({_ON_FAILURE.pattern})$"}),
]


class FailurePolicy(StrEnum):
    """What happens when a step fails (after its retries)."""

    ABORT = "abort"
    CONTINUE = "continue"
    ROLLBACK = "rollback"
    GOTO = "goto"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Retries(_Frozen):
    """Try a failed step again: ``count`` more times, waiting backoff, 2x backoff, ... up to max."""

    count: int = Field(default=0, ge=0, le=100, description="Extra attempts after a failure.")
    backoff: Duration = Field(default=timedelta(seconds=1), description="First wait.")
    max: Duration = Field(default=timedelta(minutes=1), description="Longest wait.")

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after failed attempt ``failed_attempt`` (1-based)."""
        wait: float = self.backoff.total_seconds() * 2.0 ** (failed_attempt - 1)
        return min(wait, self.max.total_seconds())


class Manual(_Frozen):
    """An operator's approval or confirmation; the run waits (status ``waiting``)."""

    prompt: str = Field(min_length=1, description="What the operator confirms (Markdown).")
    timeout: Duration | None = Field(default=None, description="Give up after this long.")
    approvers: list[str] | None = Field(
        default=None,
        description="The drkit users who may approve or reject; default any user with the "
        "approve permission.",
    )
    not_by_starter: bool = Field(
        default=False,
        description="The approver must be another user than the one who started the run "
        "(who then has to sign in to start it).",
    )


class Input(_Frozen):
    """A value the runbook is run with: ``--input NAME=VALUE``."""

    description: str = Field(default="", description="What the input means.")
    default: str | None = Field(default=None, description="Value when none is given.")


class Step(_Frozen):
    """One step: an action, a manual confirmation, or a group of steps run in parallel."""

    id: StepId = Field(description="Unique id; outputs are steps.ID.outputs.KEY.")
    name: str = Field(default="", description="Short title (default: the id).")
    description: str = Field(default="", description="The human guide for this step (Markdown).")
    action: str | None = Field(default=None, description="Action type, e.g. shell, http, sql.")
    with_: dict[str, JsonValue] = Field(
        default_factory=dict, alias="with", description="Arguments of the action."
    )
    timeout: Duration | None = Field(default=None, description="Fail an attempt after this long.")
    retries: Retries = Field(default_factory=Retries, description="Attempts after a failure.")
    on_failure: OnFailure = Field(
        default="abort", description="abort, continue, rollback or goto:STEP_ID."
    )
    rollback: list[Step] = Field(
        default_factory=list, description="Steps undoing this one, run on a rollback."
    )
    when: Expression | None = Field(default=None, description="Run only if this is true.")
    outputs: dict[str, str] = Field(
        default_factory=dict,
        description="Extra outputs from the action's: NAME: '${{ result.KEY == ... }}'.",
    )
    parallel: list[Step] = Field(default_factory=list, description="Steps run at the same time.")
    manual: Manual | None = Field(default=None, description="Wait for an operator.")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k, v in (("action", self.action), ("parallel", self.parallel),
                                ("manual", self.manual)) if v]  # fmt: skip
        if len(kinds) != 1:
            raise PydanticCustomError(
                "step_kind",
                "a step has exactly one of 'action', 'parallel' or 'manual' (got {got})",
                {"got": ", ".join(kinds) or "none"},
            )
        if self.with_ and self.action is None:
            raise PydanticCustomError("step_with", "'with' needs an 'action'")
        return self

    @property
    def title(self) -> str:
        return self.name or self.id

    @property
    def failure_policy(self) -> FailurePolicy:
        return FailurePolicy(self.on_failure.partition(":")[0])

    @property
    def goto_target(self) -> str | None:
        kind, _, target = self.on_failure.partition(":")
        return target if kind == FailurePolicy.GOTO else None

    def walk(self) -> list[Step]:
        """This step and every step nested in it (parallel members, rollback steps)."""
        nested = [s for child in (*self.parallel, *self.rollback) for s in child.walk()]
        return [self, *nested]


class Runbook(_Frozen):
    """A DR procedure: inputs, ordered steps, and the recovery time objective."""

    name: RunbookName = Field(description="Name; the file is NAME.yaml in runbooks.dir.")
    description: str = Field(default="", description="What the runbook is for (Markdown).")
    rto: Annotated[Objective, WithJsonSchema(_OBJECTIVE_SCHEMA)] | None = Field(
        default=None, description="Recovery time objective, e.g. 1h."
    )
    inputs: dict[str, Input] = Field(default_factory=dict, description="Values given at run time.")
    steps: list[Step] = Field(min_length=1, description="The steps, in order.")

    @cached_property
    def version(self) -> str:
        """12 hex digits of SHA-256 over the canonical content (comments and layout ignored)."""
        canonical = self.model_dump_json(by_alias=True, exclude_defaults=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def all_steps(self) -> list[Step]:
        return [s for step in self.steps for s in step.walk()]

    def step(self, step_id: str) -> Step:
        for step in self.all_steps():
            if step.id == step_id:
                return step
        raise RunbookInvalid(
            f"runbook {self.name!r} has no step {step_id!r}",
            hint=f"its steps: {', '.join(s.id for s in self.all_steps())}",
        )
