"""``dns.update``: replace a DNS record by RFC 2136 dynamic update, signed with TSIG, and verify.

The step reads the record's current values, sends one update that replaces
the whole record set (delete + add in one atomic message), then queries the
server until it answers with exactly the new values. With ``if_current`` the
update carries a prerequisite (RFC 2136 section 2.4.2): the server applies it
only if the record still holds those values, so two agents moving the same
name cannot both win. Setting values the record already has sends nothing:
the step is idempotent. Outputs: ``previous``, ``current`` (values,
comma-separated) and ``changed``.

Errors are the server's answer in words: NOTAUTH or a TSIG error (wrong key),
REFUSED (the zone's ACL does not allow this key to update), NOTZONE (the
server is not authoritative for ``zone``), NXRRSET (``if_current`` did not
hold).
"""

from __future__ import annotations

from pydantic import Field

from drkit.ha.actions.dns import (
    DnsRecordArgs,
    TsigArgs,
    canonical,
    key_of,
    query,
    shown,
    target,
    translated,
)
from drkit.ha.drivers.dns import wire
from drkit.runbooks.actions.base import Action, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, poll
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class UpdateArgs(DnsRecordArgs, TsigArgs):
    values: list[str] = Field(min_length=1, description="The record's new values.")
    ttl: int = Field(default=60, ge=0, le=2_147_483_647)
    if_current: list[str] | None = Field(
        default=None, description="Apply only if the record holds exactly these values now."
    )
    verify: bool = True
    verify_timeout_s: float = Field(default=10.0, gt=0, le=3600)


@register
class DnsUpdate(Action[UpdateArgs]):
    type = "dns.update"

    def run(self, args: UpdateArgs, ctx: ActionContext) -> ActionResult:
        wanted = canonical(args, args.values)
        previous = query(args)
        ctx.log(f"{args.fqdn} {args.type} on {args.where} now: {shown(previous) or '(none)'}")
        changed = previous != wanted
        if changed:
            _send_update(args)
            ctx.log(f"update sent: {args.fqdn} {args.ttl} {args.type} {shown(wanted)}")
        if args.verify:
            _verify(args, wanted, ctx)
        outputs = {"previous": shown(previous), "current": shown(wanted), "changed": flag(changed)}
        verb = "replaced" if changed else "already holds"
        line = f"{args.fqdn} {args.type}: {verb} {shown(wanted)} (was {shown(previous) or 'none'})"
        return ActionResult(output=line, outputs=outputs)

    def describe(self, args: UpdateArgs) -> str:
        signed = f" signed with key {args.key_name}" if args.key_name else " (unsigned)"
        guard = f" if it is {','.join(args.if_current)}" if args.if_current is not None else ""
        return (
            f"set {args.name} {args.type} in zone {args.zone} to {','.join(args.values)}{guard} "
            f"by dynamic update to {args.where}{signed}"
        )


def _send_update(args: UpdateArgs) -> None:
    key = key_of(args)
    with translated():
        wire.update(target(args), args.values, args.ttl, key, args.if_current)


def _verify(args: UpdateArgs, wanted: frozenset[str], ctx: ActionContext) -> None:
    seen: list[frozenset[str]] = []

    def answered() -> bool | None:
        seen.append(query(args))
        return True if seen[-1] == wanted else None

    if poll(ctx, answered, timeout_s=args.verify_timeout_s, interval_s=0.2) is None:
        raise ActionFailed(
            f"{args.where} still answers {shown(seen[-1]) or '(none)'} for {args.fqdn} "
            f"{args.type} {args.verify_timeout_s:g} s after the update",
            hint="the server accepted the update but does not serve it: see its log",
        )
    ctx.log(f"verified: {args.where} answers {shown(wanted)}")
