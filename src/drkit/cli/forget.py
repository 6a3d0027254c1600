"""`drkit forget` and `drkit prune`: drop snapshots, then the data nothing needs.

Both take an exclusive lock: no backup, restore or check runs meanwhile, and
the index is loaded only once the lock is held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from drkit.cli.browse import load_snapshots
from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json, warn
from drkit.errors import RepositoryLocked, UsageError
from drkit.policy import RetentionPolicy, parse_duration
from drkit.policy.forget import (
    DEFAULT_GROUP_BY,
    GroupDecision,
    parse_group_by,
    plan_forget,
    remove_snapshots,
    select_by_id,
    unreadable_matches,
)
from drkit.repository.archiver import normalise_targets
from drkit.repository.locks import RepoLock
from drkit.repository.prune import DEFAULT_MAX_UNUSED, PruneOptions, PruneResult, prune
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.sources.registry import policy_paths

MIB = 1024 * 1024

WaitLock = Annotated[float, typer.Option(help="seconds to wait for the lock")]
MaxUnused = Annotated[
    float,
    typer.Option(help="repack packs with more than PERCENT of unused data", metavar="PERCENT"),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


def register(app: typer.Typer) -> None:
    app.command()(forget)
    app.command("prune")(prune_command)


@contextmanager
def exclusive_lock(repo: Repository, operation: str, wait: float) -> Iterator[None]:
    """Hold an exclusive lock; a refusal names --wait-lock in its hint."""
    lock = RepoLock(repo, exclusive=True, operation=operation, wait=wait)
    try:
        lock.acquire()
    except RepositoryLocked as exc:
        raise RepositoryLocked(
            exc.message, hint=f"{exc.hint}; or pass --wait-lock SECONDS to wait for it"
        ) from None
    try:
        yield
    finally:
        lock.release()


def prune_options(state: State, max_unused: float, dry_run: bool) -> PruneOptions:
    pack_size = state.settings.backup.pack_size_mib * MIB
    return PruneOptions(max_unused=max_unused, pack_size=pack_size, dry_run=dry_run)


# ------------------------------------------------------------------------------ forget


@dataclass(frozen=True)
class ForgetOutcome:
    groups: list[GroupDecision]
    chosen: list[Snapshot]  # snapshots to remove (removed unless dry run)
    dry_run: bool
    damaged: list[str] = field(default_factory=list)  # unreadable snapshot objects named by id


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
    policy = RetentionPolicy(
        last=keep_last,
        hourly=keep_hourly,
        daily=keep_daily,
        weekly=keep_weekly,
        monthly=keep_monthly,
        yearly=keep_yearly,
        within=parse_duration(keep_within) if keep_within is not None else None,
        tags=frozenset(keep_tag or []),
    )
    fields = parse_group_by(group_by)
    options = prune_options(state, max_unused, dry_run)
    if backup_policy is not None:
        if snapshot_ids or not policy.is_empty():
            raise UsageError(
                "--policy takes its retention from drkit.yaml",
                hint="leave out snapshot ids and --keep-* options",
            )
        _forget_policy(state, backup_policy, fields, options, run_prune, wait_lock, json_output)
        return
    _check_selection(snapshot_ids or [], policy)
    repo = state.open_repo(load_index=False)
    with exclusive_lock(repo, "forget", wait_lock):
        outcome = _forget(repo, snapshot_ids or [], policy, fields, dry_run)
        if not json_output:
            _print_forget(outcome, state.quiet)
        pruned = _prune_after(repo, options, outcome) if run_prune else None
    if json_output:
        print_json(_forget_json(outcome, pruned))
    elif pruned is not None:
        _print_prune(pruned, state.quiet)


def _forget_policy(
    state: State,
    name: str,
    fields: tuple[str, ...],
    options: PruneOptions,
    run_prune: bool,
    wait_lock: float,
    json_output: bool,
) -> None:
    """Each repository of the policy, with its own retention, only the policy's snapshots."""
    chosen = state.policy(name)
    paths = policy_paths(chosen.sources)  # database sources carry the policy tag
    sources = sorted(normalise_targets(paths)) if paths else []
    docs: dict[str, Any] = {}
    for repo_name in chosen.repositories:
        retention = chosen.retention_for(repo_name)
        if retention is None:
            docs[repo_name] = {"skipped": "no retention set"}
            if not json_output:
                out.print(f"[bold]{repo_name}[/]: no retention set for this policy, kept all")
            continue
        repo = state.open_ref(repo_name)
        with exclusive_lock(repo, "forget", wait_lock):
            outcome = _forget(
                repo,
                [],
                retention.to_policy(),
                fields,
                options.dry_run,
                only=lambda snap: f"policy:{name}" in snap.tags or sorted(snap.paths) == sources,
            )
            if not json_output:
                out.print(f"[bold]{repo_name}[/]: {retention.to_policy().describe()}")
                _print_forget(outcome, state.quiet)
            pruned = _prune_after(repo, options, outcome) if run_prune else None
        docs[repo_name] = _forget_json(outcome, pruned)
        if pruned is not None and not json_output:
            _print_prune(pruned, state.quiet)
    if json_output:
        print_json(docs)


def _check_selection(ids: list[str], policy: RetentionPolicy) -> None:
    if ids and not policy.is_empty():
        raise UsageError(
            "give either snapshot ids or a keep policy, not both",
            hint="run forget twice: once with the ids, once with the policy",
        )
    if not ids and policy.is_empty():
        raise UsageError(
            "nothing to forget: no snapshot ids and no keep policy given",
            hint="name snapshots by id, or give a policy such as --keep-last 7 --keep-daily 30",
        )


def _forget(
    repo: Repository,
    ids: list[str],
    policy: RetentionPolicy,
    fields: tuple[str, ...],
    dry_run: bool,
    only: Callable[[Snapshot], bool] | None = None,
) -> ForgetOutcome:
    snapshots = [s for s in load_snapshots(repo) if only is None or only(s)]
    damaged: list[str] = []
    if ids:
        ids, damaged = unreadable_matches(repo, snapshots, ids)
        groups, chosen = [], select_by_id(snapshots, ids)
    else:
        groups = plan_forget(snapshots, policy, fields)
        chosen = [snap for group in groups for snap in group.decision.remove]
    if not dry_run:
        remove_snapshots(repo, chosen)
        for name in damaged:
            repo.remove_snapshot(name)
    return ForgetOutcome(groups, chosen, dry_run, damaged)


def _prune_after(repo: Repository, options: PruneOptions, outcome: ForgetOutcome) -> PruneResult:
    repo.load_index()
    # in a dry run the snapshots are still there: plan as if they were gone
    exclude = {snap.id for snap in outcome.chosen} if outcome.dry_run else set()
    return prune(repo, options, exclude)


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


def _snapshot_json(snap: Snapshot, reasons: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": snap.id,
        "short_id": snap.short_id,
        "time": snap.time,
        "hostname": snap.hostname,
        "paths": snap.paths,
        "tags": snap.tags,
    }
    if reasons is not None:
        doc["reasons"] = reasons
    return doc


def _forget_json(outcome: ForgetOutcome, pruned: PruneResult | None) -> dict[str, Any]:
    return {
        "dry_run": outcome.dry_run,
        "groups": [
            {
                "key": dict(group.key),
                "keep": [
                    _snapshot_json(s, group.decision.reasons[s.id]) for s in group.decision.keep
                ],
                "remove": [_snapshot_json(s) for s in group.decision.remove],
            }
            for group in outcome.groups
        ],
        "removed": [] if outcome.dry_run else [*(s.id for s in outcome.chosen), *outcome.damaged],
        "would_remove": [*(s.id for s in outcome.chosen), *outcome.damaged]
        if outcome.dry_run
        else [],
        "prune": _prune_json(pruned) if pruned is not None else None,
    }


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
    options = prune_options(state, max_unused, dry_run)
    repo = state.open_repo(load_index=False)
    with exclusive_lock(repo, "prune", wait_lock):
        repo.load_index()
        result = prune(repo, options)
    if json_output:
        print_json(_prune_json(result))
    else:
        _print_prune(result, state.quiet)


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


def _prune_json(result: PruneResult) -> dict[str, Any]:
    plan, stats = result.plan, result.plan.stats
    return {
        "dry_run": result.dry_run,
        "packs": {
            "total": stats.packs_total,
            "deleted": len(plan.delete),
            "repacked": len(plan.repack),
            "kept": len(plan.keep),
            "unindexed": len(plan.unindexed),
            "missing": len(plan.missing),
            "written": result.packs_written,
        },
        "blobs_removed": stats.blobs_removed,
        "blobs_repacked": stats.blobs_repacked,
        "bytes_total": stats.bytes_total,
        "bytes_used": stats.used_bytes,
        "bytes_unused": stats.unused_bytes,
        "bytes_freed": result.bytes_freed,
        "staging_removed": result.staging_removed,
        "index_files_written": result.index_files_written,
        "index_files_removed": result.index_files_removed,
    }
