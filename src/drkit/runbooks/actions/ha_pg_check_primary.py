"""``postgres.check_primary``: is the primary up and writable, or really down?

With ``expect: up`` (the default) the step succeeds only when the server is
reachable and not in recovery: a health gate. With ``expect: down`` it is the
first step of a failover: it succeeds only when the server is unreachable or
no longer a writable primary in ``attempts`` consecutive probes taken
``interval_s`` apart, so one lost packet never triggers a failover, and a
primary that answers as writable stops the runbook before anything changes.
``expect: any`` only reports. Outputs: ``state`` (primary, replica,
unreachable), ``reachable``, ``in_recovery``, ``server_version``, ``error``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, sleep
from drkit.runbooks.actions.ha_pg import PgProbe, PgServerArgs, PgState, probe
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class Expect(StrEnum):
    UP = "up"
    DOWN = "down"
    ANY = "any"


class CheckPrimaryArgs(PgServerArgs):
    expect: Expect = Expect.UP
    attempts: int = Field(
        default=1, ge=1, le=100, description="Consecutive probes that must agree."
    )
    interval_s: float = Field(default=1.0, ge=0, le=600, description="Pause between probes.")


@register
class CheckPrimary(Action[CheckPrimaryArgs]):
    type = "postgres.check_primary"

    def run(self, args: CheckPrimaryArgs, ctx: ActionContext) -> ActionResult:
        last = _probe_until_disagreement(args, ctx)
        _judge(args, last)
        line = f"{args.address}: {last.state}" + (f" ({last.error})" if last.error else "")
        return ActionResult(output=line, outputs=_outputs(last))

    def describe(self, args: CheckPrimaryArgs) -> str:
        if args.expect is Expect.DOWN:
            return (
                f"confirm the PostgreSQL primary at {args.address} is down "
                f"({args.attempts} probe(s), {args.interval_s:g} s apart)"
            )
        if args.expect is Expect.UP:
            return f"check the PostgreSQL primary at {args.address} is up and accepts writes"
        return f"report the state of the PostgreSQL server at {args.address}"


def _probe_until_disagreement(args: CheckPrimaryArgs, ctx: ActionContext) -> PgProbe:
    """Probe ``attempts`` times; stop early as soon as a probe contradicts ``expect``."""
    last = probe(args)
    ctx.log(f"probe 1: {last.state} {last.error}".rstrip())
    for attempt in range(2, args.attempts + 1):
        if not _as_expected(args.expect, last):
            break
        sleep(ctx, args.interval_s)
        last = probe(args)
        ctx.log(f"probe {attempt}: {last.state} {last.error}".rstrip())
    return last


def _as_expected(expect: Expect, seen: PgProbe) -> bool:
    if expect is Expect.UP:
        return seen.state is PgState.PRIMARY
    if expect is Expect.DOWN:
        return seen.state is not PgState.PRIMARY
    return True


def _judge(args: CheckPrimaryArgs, seen: PgProbe) -> None:
    if _as_expected(args.expect, seen):
        return
    if args.expect is Expect.DOWN:
        raise ActionFailed(
            f"the primary at {args.address} is up and accepts writes: not failing over",
            hint="this runbook is for a failed primary; if you mean to move the service anyway, "
            "stop the primary first (a switchover) so there are never two writable primaries",
        )
    if seen.state is PgState.REPLICA:
        raise ActionFailed(
            f"{args.address} is in recovery (a replica), not a writable primary",
            hint="point the step at the current primary, or promote this server",
        )
    raise ActionFailed(
        f"the primary at {args.address} is unreachable: {seen.error}",
        hint="check that PostgreSQL runs and the network path to it is open",
    )


def _outputs(seen: PgProbe) -> dict[str, str]:
    return {
        "state": seen.state.value,
        "reachable": flag(seen.state is not PgState.UNREACHABLE),
        "in_recovery": flag(seen.state is PgState.REPLICA),
        "server_version": seen.server_version,
        "error": seen.error,
    }
