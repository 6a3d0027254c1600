"""``action: manual`` (or a step's ``manual:`` block): wait for an operator's approval.

The step shows as ``waiting`` in the journal until a signed-in drkit user
with the ``approve`` permission runs ``drkit runbook approve RUN_ID STEP``
(or ``reject``), or answers the prompt on the terminal that started the run
(signed in too); see :mod:`drkit.services.runbook_approval`. Only users
listed in ``approvers`` count when the list is given, and with
``not_by_starter`` not the user who started the run. The approver is
recorded as the step's actor; with ``timeout`` the step fails when nobody decides in time,
and its ``on_failure`` applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


@runtime_checkable
class ApprovalGate(Protocol):
    """The part of the runner's context that can wait for an operator."""

    def wait_for_approval(
        self, prompt: str, approvers: Sequence[str] | None, timeout_s: float | None
    ) -> str: ...


class ManualArgs(ActionArgs):
    prompt: str = Field(min_length=1, description="What the operator approves or confirms.")
    timeout_s: float | None = Field(default=None, gt=0, description="Seconds to wait at most.")
    approvers: list[str] | None = Field(default=None, description="Who may approve.")
    not_by_starter: bool = Field(default=False, description="Not the user who started the run.")


@register
class ManualAction(Action[ManualArgs]):
    type = "manual"

    def run(self, args: ManualArgs, ctx: ActionContext) -> ActionResult:
        if not isinstance(ctx, ApprovalGate):
            raise ActionFailed("manual steps can only run inside the runbook runner")
        actor = ctx.wait_for_approval(args.prompt, args.approvers, args.timeout_s)
        return ActionResult(output=f"approved by {actor}", outputs={"approved_by": actor})

    def describe(self, args: ManualArgs) -> str:
        who = f" by one of {', '.join(args.approvers)}" if args.approvers else ""
        return f"wait for approval{who}: {args.prompt}"
