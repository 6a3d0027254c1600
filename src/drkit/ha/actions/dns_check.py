"""``dns.check``: ask a DNS server for a record and compare the answer.

``expect`` lists the values the record must hold (exactly: no more, no
fewer); ``expect_absent: true`` wants no such record; with neither, the step
only reports. ``wait_s`` keeps asking until the answer matches (a secondary
server catching up by zone transfer), else the step fails with the last
answer. Outputs: ``values`` (comma-separated) and ``matched``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from drkit.ha.actions.dns import DnsRecordArgs, canonical, query, shown
from drkit.runbooks.actions.base import Action, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, poll
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class CheckArgs(DnsRecordArgs):
    expect: list[str] | None = Field(default=None, description="Values the record must hold.")
    expect_absent: bool = False
    wait_s: float = Field(default=0, ge=0, le=3600, description="Keep asking this long.")
    interval_s: float = Field(default=0.5, gt=0, le=600)

    @model_validator(mode="after")
    def _one_expectation(self) -> CheckArgs:
        if self.expect is not None and self.expect_absent:
            raise ValueError("give expect or expect_absent, not both")
        return self


@register
class DnsCheck(Action[CheckArgs]):
    type = "dns.check"

    def run(self, args: CheckArgs, ctx: ActionContext) -> ActionResult:
        wanted = _wanted(args)
        seen: list[frozenset[str]] = []

        def matches() -> bool | None:
            seen.append(query(args))
            return True if wanted is None or seen[-1] == wanted else None

        matched = poll(ctx, matches, timeout_s=args.wait_s, interval_s=args.interval_s)
        answer = shown(seen[-1]) or "(none)"
        if matched is None:
            assert wanted is not None
            raise ActionFailed(
                f"{args.where} answers {answer} for {args.fqdn} {args.type}, "
                f"expected {shown(wanted) or '(none)'}",
                hint="the record was not changed, or the server has not caught up yet "
                "(raise wait_s)",
            )
        outputs = {"values": shown(seen[-1]), "matched": flag(wanted is not None)}
        return ActionResult(
            output=f"{args.fqdn} {args.type} on {args.where}: {answer}", outputs=outputs
        )

    def describe(self, args: CheckArgs) -> str:
        what = f"{args.name} {args.type} (zone {args.zone}) on {args.where}"
        if args.expect is not None:
            return f"check that {what} is {','.join(args.expect)}"
        if args.expect_absent:
            return f"check that {what} does not exist"
        return f"look up {what}"


def _wanted(args: CheckArgs) -> frozenset[str] | None:
    if args.expect is not None:
        return canonical(args, args.expect)
    return frozenset() if args.expect_absent else None
