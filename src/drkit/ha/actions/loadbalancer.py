"""``ha.loadbalancer``: set a site's server in its HAProxy (ready, drain, maint), kill sessions.

The failover runbook fences the old primary with it (``maint`` plus
``shutdown_sessions``) and opens the new one (``ready``) at once, without
waiting for HAProxy's own check intervals. The site's load balancer comes
from the ``ha:`` inventory.
"""

from __future__ import annotations

from pydantic import Field

from drkit.ha.build import load_balancer_for
from drkit.ha.drivers.errors import HaDriverError
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class LoadBalancerArgs(ActionArgs):
    site: str = Field(min_length=1, description="Site (ha.sites) whose server to change.")
    state: AdminState
    shutdown_sessions: bool = False
    timeout_s: float | None = Field(
        default=None, gt=0, le=300, description="Bound of each runtime API call (default 5 s)."
    )


@register
class SetLoadBalancerState(Action[LoadBalancerArgs]):
    type = "ha.loadbalancer"

    def describe(self, args: LoadBalancerArgs) -> str:
        kill = " and shut its sessions down" if args.shutdown_sessions else ""
        return f"set {args.site}'s load balancer server to {args.state.value}{kill}"

    def run(self, args: LoadBalancerArgs, ctx: ActionContext) -> ActionResult:
        ha = ctx.settings.ha
        if ha is None:
            raise ActionFailed("drkit.yaml has no ha: section", hint="add the HA inventory")
        built = load_balancer_for(ha, args.site, timeout_s=args.timeout_s)
        if built is None:
            return ActionResult(output=f"{args.site} has no load balancer; nothing to do")
        lb, server = built
        try:
            state = lb.set_state(server, args.state)
            killed = lb.shutdown_sessions(server) if args.shutdown_sessions else 0
        except HaDriverError as exc:
            raise ActionFailed(exc.message, hint=exc.hint) from exc
        return ActionResult(
            output=f"{lb.backend}/{server}: {state.admin.value}, {killed} sessions shut down",
            outputs={"state": state.admin.value, "sessions_killed": str(killed)},
        )
