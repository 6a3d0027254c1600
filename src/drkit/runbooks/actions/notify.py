"""``action: notify``: tell people through drkit's notification backends (drkit.yaml ``notifiers``).

```yaml
- id: tell-ops
  action: notify
  with:
    summary: "Failover to ${{ inputs.site }} done"
    severity: info
    notifiers: [ops-webhook]          # default: alerts.notifiers, else every notifier
    details: {lsn: "${{ steps.promote.outputs.lsn }}"}
```

Delivery is concurrent with retries (:func:`drkit.notify.dispatch.deliver`);
the step fails when any named notifier did not accept the message, so a
runbook can require that the on-call team really was told.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import Field

from drkit.notify.base import EventAction, Notification, Notifier, Severity
from drkit.notify.dispatch import deliver
from drkit.notify.errors import NotifierConfigError
from drkit.notify.registry import build_notifier, select
from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class NotifyArgs(ActionArgs):
    summary: str = Field(min_length=1, description="One line: what happened.")
    severity: Severity = Field(default=Severity.INFO, description="info, warning, error, critical.")
    notifiers: list[str] | None = Field(
        default=None, description="Notifier names (default: alerts.notifiers, else all)."
    )
    details: dict[str, str] = Field(default_factory=dict, description="Facts shown with it.")
    retries: int = Field(default=3, ge=0, le=10, description="Retries of a transient failure.")
    timeout: float = Field(default=30, gt=0, description="Seconds for the whole delivery.")


@register
class NotifyAction(Action[NotifyArgs]):
    type = "notify"

    def run(self, args: NotifyArgs, ctx: ActionContext) -> ActionResult:
        notifiers = _notifiers(args, ctx)
        timeout = min(args.timeout, ctx.timeout_s) if ctx.timeout_s else args.timeout
        results = deliver(
            _notification(args, ctx), notifiers, retries=args.retries, timeout_s=timeout
        )
        for done in results:
            ctx.log(f"{done.notifier}: {'sent' if done.ok else done.error} ({done.attempts} tries)")
        failed = [f"{d.notifier}: {d.error}" for d in results if not d.ok]
        if failed:
            raise ActionFailed(f"not delivered to {'; '.join(failed)}")
        sent = ",".join(d.notifier for d in results)
        return ActionResult(output=f"sent to {sent}", outputs={"sent_to": sent})

    def describe(self, args: NotifyArgs) -> str:
        to = ", ".join(args.notifiers) if args.notifiers else "the configured notifiers"
        return f"notify {to} ({args.severity.value}): {args.summary}"


def _notifiers(args: NotifyArgs, ctx: ActionContext) -> list[Notifier]:
    configured = ctx.settings.notifiers
    names = args.notifiers or ctx.settings.alerts.notifiers or sorted(configured)
    if not names:
        raise ActionFailed(
            "no notifiers are configured",
            hint="add one under `notifiers:` in drkit.yaml (see docs/notifications.md)",
        )
    try:
        return [build_notifier(name, select(configured, name)) for name in names]
    except NotifierConfigError as exc:
        raise ActionFailed(exc.message, hint=exc.hint) from exc


def _notification(args: NotifyArgs, ctx: ActionContext) -> Notification:
    run = f"run {ctx.run_id}" if ctx.run_id is not None else "dry run"
    key = hashlib.sha256(f"{ctx.run_id}\0{args.summary}".encode()).hexdigest()[:16]
    return Notification(
        action=EventAction.TRIGGER,
        dedup_key=f"runbook:{key}",
        severity=args.severity,
        summary=args.summary.replace("\n", " "),
        source=f"drkit runbook ({run})",
        time=datetime.now(UTC),
        details=tuple(args.details.items()),
    )
