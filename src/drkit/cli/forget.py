"""`drkit forget` and `drkit prune`: drop snapshots, then the data nothing needs.

The operations (:mod:`drkit.services.forget`, :mod:`drkit.services.prune`)
take an exclusive lock: no backup, restore or check runs meanwhile, and the
index is loaded only once the lock is held. This module parses the options
and renders the result (text or ``--json``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, warn
from drkit.policy import RetentionPolicy, parse_duration
from drkit.policy.forget import DEFAULT_GROUP_BY, GroupDecision, parse_group_by
from drkit.repository.prune import DEFAULT_MAX_UNUSED, PruneResult
from drkit.services import forget as service
from drkit.services.forget import ForgetOutcome, ForgetRequest, PolicyForgetResult, prune_options
from drkit.services.prune import prune_repository

WaitLock = Annotated[float, typer.Option(help="seconds to wait for the lock")]
MaxUnused = Annotated[
    float,
    typer.Option(help="repack packs with more than PERCENT of unused data", metavar="PERCENT"),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


def register(app: typer.Typer) -> None:
    app.command()(forget)
    app.command("prune")(prune_command)


# ------------------------------------------------------------------------------ forget


def forget(
    ctx: typer.Context,
    snapshot_ids: Annotated[
        list[str] | None, typer.Argument(help="remove these snapshots (id prefixes)")
    ] = None,
    keep_last: Annotated[int, typer.Option(metavar="N", help="keep the N newest")] = 0,
    keep_hourly: Annotated[
        int, typer.Option(metavar="N", help="keep the newest of each of the last N hours")
    ] = 0,
    keep_daily: Annotated[int, typer.Option(metavar="N", help="... of the last N days")] = 0,
    keep_weekly: Annotated[int, typer.Option(metavar="N", help="... of the last N weeks")] = 0,
    keep_monthly: Annotated[int, typer.Option(metavar="N", help="... of the last N months")] = 0,
    keep_yearly: Annotated[int, typer.Option(metavar="N", help="... of the last N years")] = 0,
    keep_within: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="keep all within DURATION of the newest, e.g. 7d"),
    ] = None,
    keep_tag: Annotated[
        list[str] | None, typer.Option(metavar="TAG", help="keep all with this tag (repeatable)")
    ] = None,
    group_by: Annotated[
        str, typer.Option(metavar="FIELDS", help="apply the policy per group of host,paths,tags")
    ] = DEFAULT_GROUP_BY,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show, change nothing")] = False,
    run_prune: Annotated[bool, typer.Option("--prune", help="prune afterwards")] = False,
    backup_policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="apply a drkit.yaml policy's retention in each of its "
            "repositories (per-repository retention where set)",
        ),
    ] = None,
    max_unused: MaxUnused = DEFAULT_MAX_UNUSED,
    wait_lock: WaitLock = 0.0,
    json_output: JsonOutput = False,
) -> None:
    """Remove snapshots: those named, or those a retention policy does not keep."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    retention = RetentionPolicy(
        last=keep_last,
        hourly=keep_hourly,
        daily=keep_daily,
        weekly=keep_weekly,
        monthly=keep_monthly,
        yearly=keep_yearly,
        within=parse_duration(keep_within) if keep_within is not None else None,
        tags=frozenset(keep_tag or []),
    )
    workspace = state.use()
    request = ForgetRequest(
        options=prune_options(workspace, max_unused, dry_run),
        ids=tuple(snapshot_ids or []),
        retention=retention,
        fields=parse_group_by(group_by),
        policy=backup_policy,
        run_prune=run_prune,
        wait_lock=wait_lock,
    )
    with output.progress() as progress:
        result = service.forget(workspace, request, progress)
    if isinstance(result, PolicyForgetResult):
        output.render(result, lambda r: _print_policy(r, output.quiet))
    else:
        output.render(result, lambda r: _print_outcome(r, output.quiet))


def _print_outcome(outcome: ForgetOutcome, quiet: bool) -> None:
    _print_forget(outcome, quiet)
    if outcome.pruned is not None:
        _print_prune(outcome.pruned, quiet)


def _print_policy(result: PolicyForgetResult, quiet: bool) -> None:
    for entry in result.repositories:
        if entry.outcome is None:
            out.print(f"[bold]{entry.repository}[/]: no retention set for this policy, kept all")
            continue
        out.print(f"[bold]{entry.repository}[/]: {entry.retention}")
        _print_outcome(entry.outcome, quiet)


def _print_forget(outcome: ForgetOutcome, quiet: bool) -> None:
    if not quiet:
        for group in outcome.groups:
            _print_group(group)
        if not outcome.groups:
            for snap in outcome.chosen:
                out.print(f"  remove  {snap.short_id}  {snap.time:%Y-%m-%d %H:%M:%S}")
    for name in outcome.damaged:
        out.print(f"  remove  {name[:8]}  (damaged, unreadable)")
    count = len(outcome.chosen) + len(outcome.damaged)
    if outcome.dry_run:
        out.print(f"dry run: would remove {count} snapshot(s); nothing was changed")
    else:
        out.print(f"removed {count} snapshot(s)")


def _print_group(group: GroupDecision) -> None:
    decision = group.decision
    out.print(
        f"{group.describe()}: keep {len(decision.keep)}, remove {len(decision.remove)}",
        markup=False,
    )
    for snap in decision.keep:
        reasons = ", ".join(decision.reasons[snap.id])
        out.print(
            f"  keep    {snap.short_id}  {snap.time:%Y-%m-%d %H:%M:%S}  {reasons}", markup=False
        )
    for snap in decision.remove:
        out.print(f"  remove  {snap.short_id}  {snap.time:%Y-%m-%d %H:%M:%S}")


# ------------------------------------------------------------------------------- prune


def prune_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show the plan, change nothing")] = (
        False
    ),
    max_unused: MaxUnused = DEFAULT_MAX_UNUSED,
    wait_lock: WaitLock = 0.0,
    json_output: JsonOutput = False,
) -> None:
    """Delete data no snapshot needs and compact packs that are mostly unused."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    workspace = state.use()
    options = prune_options(workspace, max_unused, dry_run)
    done = prune_repository(workspace, options, wait_lock=wait_lock)
    output.render(done, lambda r: _print_prune(r.result, output.quiet))


def _print_prune(result: PruneResult, quiet: bool) -> None:
    plan, stats = result.plan, result.plan.stats
    if plan.missing:
        warn(f"{len(plan.missing)} pack(s) named by the index are missing from storage")
    if not plan.changes_anything:
        out.print("nothing to prune")
        return
    dry = result.dry_run
    verb = "would free" if dry else "freed"
    if not quiet:
        deleted, repacked = ("to delete", "to repack") if dry else ("deleted", "repacked")
        out.print(
            f"packs: {stats.packs_total} stored; {len(plan.delete)} {deleted}, "
            f"{len(plan.repack)} {repacked}, {len(plan.keep)} kept, "
            f"{len(plan.unindexed)} unindexed {deleted}"
        )
        removed, copied = ("to remove", "to copy") if dry else ("removed", "copied")
        out.print(
            f"blobs: {stats.blobs_removed} {removed}, {stats.blobs_repacked} {copied} "
            f"({human_bytes(stats.bytes_repacked)})"
        )
    out.print(f"{verb} {human_bytes(result.bytes_freed)}")
    if result.dry_run:
        out.print("dry run: nothing was changed")
