"""``loadbalancer.set_state``: set HAProxy servers ready, drain or maint at once (runtime API).

A failover fences the old primary with ``state: maint`` (and, by default, cuts
its open sessions so no client keeps writing to it), then opens the new one
with ``state: ready``, without waiting for HAProxy's own check intervals. The
step reads every server back and fails if HAProxy does not report the state
asked for. Idempotent. Outputs: ``previous`` (``server=state`` pairs),
``state``, ``sessions_closed``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.drivers.loadbalancer.haproxy import HaproxyLoadBalancer, HaproxySettings
from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class SetStateArgs(ActionArgs):
    socket: Path | None = Field(default=None, description="HAProxy's stats socket path.")
    address: str | None = Field(default=None, description="host:port of a TCP stats socket.")
    backend: str = Field(min_length=1)
    servers: list[str] = Field(min_length=1)
    state: AdminState
    shutdown_sessions: bool | None = Field(
        default=None, description="Cut open sessions; default: yes for maint."
    )
    weight: int | None = Field(default=None, ge=0, le=256)
    timeout_s: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _one_target(self) -> SetStateArgs:
        if (self.socket is None) == (self.address is None):
            raise ValueError("give socket (a path) or address (host:port), one of them")
        return self

    @property
    def cut(self) -> bool:
        return (
            self.state is AdminState.MAINT
            if self.shutdown_sessions is None
            else self.shutdown_sessions
        )


@register
class LoadBalancerSetState(Action[SetStateArgs]):
    type = "loadbalancer.set_state"

    def run(self, args: SetStateArgs, ctx: ActionContext) -> ActionResult:
        lb = HaproxyLoadBalancer(
            HaproxySettings(
                socket=args.socket,
                address=args.address,
                backend=args.backend,
                timeout_s=args.timeout_s,
            )
        )
        try:
            return _apply(lb, args, ctx)
        except LoadBalancerError as exc:
            raise ActionFailed(exc.message, hint=exc.hint) from exc

    def describe(self, args: SetStateArgs) -> str:
        cut = " and cut their sessions" if args.cut else ""
        return f"set {', '.join(args.servers)} of backend {args.backend} to {args.state}{cut}"


def _apply(lb: HaproxyLoadBalancer, args: SetStateArgs, ctx: ActionContext) -> ActionResult:
    before = {s.name: s for s in lb.servers()}
    closed = 0
    for name in args.servers:
        if args.weight is not None:
            lb.set_weight(name, args.weight)
        after = lb.set_state(name, args.state)
        if after.admin is not args.state:
            raise ActionFailed(
                f"HAProxy reports {name} as {after.admin} after setting {args.state}"
            )
        if args.cut:
            closed += lb.shutdown_sessions(name)
        ctx.log(f"{args.backend}/{name}: {after.admin} (checks: {after.op})")
    previous = ",".join(f"{n}={before[n].admin}" for n in args.servers if n in before)
    outputs = {"previous": previous, "state": args.state.value, "sessions_closed": str(closed)}
    line = f"{args.backend}: {', '.join(args.servers)} now {args.state} (was {previous})"
    return ActionResult(output=line, outputs=outputs)
