"""``action: wait_until``: repeat another check action until it passes, or give up.

```yaml
- id: replica-caught-up
  action: wait_until
  with:
    check: {action: sql, with: {dsn: "...", query: "select 1", expect: {value: "1"}}}
    interval: 2
    timeout: 120
```

Outputs: the passing check's outputs, plus ``attempts`` and ``seconds``.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field, JsonValue, ValidationError, model_validator

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import get_action, register
from drkit.runbooks.errors import ActionFailed, RunbookInvalid


class CheckSpec(ActionArgs):
    action: str = Field(description="The check action's type, e.g. http, tcp, sql, shell.")
    with_: dict[str, JsonValue] = Field(
        default_factory=dict, alias="with", description="Its arguments."
    )

    def build(self) -> tuple[Action, BaseModel]:
        if self.action == WaitUntilAction.type:
            raise ValueError("wait_until cannot wait for another wait_until")
        try:
            action = get_action(self.action)()
        except RunbookInvalid as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from None
        return action, action.Args.model_validate(self.with_)


class WaitUntilArgs(ActionArgs):
    check: CheckSpec = Field(description="The action to repeat until it passes.")
    interval: float = Field(default=2, gt=0, description="Seconds between tries.")
    timeout: float = Field(default=60, gt=0, description="Seconds to keep trying.")

    @model_validator(mode="after")
    def _valid_check(self) -> WaitUntilArgs:
        try:
            self.check.build()
        except ValidationError as exc:
            raise ValueError(f"check.with: {exc.errors()[0]['msg']}") from None
        return self


@register
class WaitUntilAction(Action[WaitUntilArgs]):
    type = "wait_until"

    def run(self, args: WaitUntilArgs, ctx: ActionContext) -> ActionResult:
        action, check_args = args.check.build()
        started = time.monotonic()
        timeout = min(args.timeout, ctx.timeout_s) if ctx.timeout_s else args.timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                result = action.run(check_args, ctx)
            except ActionFailed as exc:
                problem = exc.message
            else:
                seconds = time.monotonic() - started
                ctx.log(f"passed on try {attempts} after {seconds:.1f}s")
                extra = {"attempts": str(attempts), "seconds": f"{seconds:.3f}"}
                return ActionResult(result.output, {**result.outputs, **extra})
            ctx.log(f"try {attempts}: {problem}")
            if _out_of_time(started, timeout, args.interval, ctx):
                raise ActionFailed(
                    f"{args.check.action} did not pass within {timeout:g}s "
                    f"({attempts} tries); last: {problem}"
                )

    def describe(self, args: WaitUntilArgs) -> str:
        action, check_args = args.check.build()
        return (
            f"until `{action.describe(check_args)}` passes (every {args.interval:g}s, "
            f"at most {args.timeout:g}s)"
        )


def _out_of_time(started: float, timeout: float, interval: float, ctx: ActionContext) -> bool:
    """Sleep until the next try; True when the time is up (or the step was stopped)."""
    next_try = time.monotonic() + interval
    if next_try - started > timeout:
        return True
    while time.monotonic() < next_try:
        if ctx.cancelled():
            return True
        time.sleep(min(0.05, max(0.0, next_try - time.monotonic())))
    return False
