"""Forgetting snapshots: by id or retention in one repository, and per policy in each of its own.

Each operation takes the exclusive lock itself, loads the index only once it
holds it, and returns a typed result whose ``to_json()`` is the shape of
``drkit forget --json`` (and of the API). :func:`forget` is the one entry a
face calls with a :class:`ForgetRequest`; it checks the request and runs
:func:`forget_policy` or :func:`forget_snapshots`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from drkit.errors import RepositoryLocked, UsageError
from drkit.policy import RetentionPolicy
from drkit.policy.forget import (
    GroupDecision,
    plan_forget,
    remove_snapshots,
    select_by_id,
    unreadable_matches,
)
from drkit.policy.membership import belongs_to_policy
from drkit.repository.archiver import normalise_targets
from drkit.repository.locks import RepoLock
from drkit.repository.prune import PruneOptions, PruneResult, prune
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.services.progress import SILENT, Progress
from drkit.services.workspace import Workspace
from drkit.sources.registry import policy_paths


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


@dataclass(frozen=True)
class ForgetOutcome:
    """What forget removed (or, in a dry run, would remove) in one repository."""

    groups: list[GroupDecision]
    chosen: list[Snapshot]  # snapshots to remove (removed unless dry run)
    dry_run: bool
    damaged: list[str] = field(default_factory=list)  # unreadable snapshot objects named by id
    pruned: PruneResult | None = None

    def to_json(self) -> dict[str, Any]:
        removed = [*(s.id for s in self.chosen), *self.damaged]
        return {
            "dry_run": self.dry_run,
            "groups": [_group_json(group) for group in self.groups],
            "removed": [] if self.dry_run else removed,
            "would_remove": removed if self.dry_run else [],
            "prune": prune_json(self.pruned) if self.pruned is not None else None,
        }


@dataclass(frozen=True)
class PolicyForget:
    """One repository of a policy: its retention, and what forget did there."""

    repository: str
    retention: str | None  # the retention applied, described; None: none set, all kept
    outcome: ForgetOutcome | None

    def to_json(self) -> dict[str, Any]:
        if self.outcome is None:
            return {"skipped": "no retention set"}
        return self.outcome.to_json()


@dataclass(frozen=True)
class PolicyForgetResult:
    """Forget per policy: one entry per repository of the policy, in its order."""

    policy: str
    repositories: list[PolicyForget]

    def to_json(self) -> dict[str, Any]:
        return {entry.repository: entry.to_json() for entry in self.repositories}


MIB = 1024 * 1024


def prune_options(workspace: Workspace, max_unused: float, dry_run: bool) -> PruneOptions:
    """Prune's options, packs written at the size of drkit.yaml's ``backup.pack_size_mib``."""
    pack_size = workspace.settings.backup.pack_size_mib * MIB
    return PruneOptions(max_unused=max_unused, pack_size=pack_size, dry_run=dry_run)


@dataclass(frozen=True)
class ForgetRequest:
    """Snapshots named by id, or a retention to apply, or a drkit.yaml policy's (``policy``)."""

    options: PruneOptions  # dry_run, and how a --prune afterwards repacks
    ids: tuple[str, ...] = ()
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    fields: tuple[str, ...] = ()  # group by (host, paths, tags)
    policy: str | None = None
    run_prune: bool = False
    wait_lock: float = 0.0

    def check(self) -> None:
        """A usage error for a request that names nothing, or two things, to forget."""
        ids, retention = self.ids, self.retention
        if self.policy is not None:
            if ids or not retention.is_empty():
                raise UsageError(
                    "--policy takes its retention from drkit.yaml",
                    hint="leave out snapshot ids and --keep-* options",
                )
            return
        if ids and not retention.is_empty():
            raise UsageError(
                "give either snapshot ids or a keep policy, not both",
                hint="run forget twice: once with the ids, once with the policy",
            )
        if not ids and retention.is_empty():
            raise UsageError(
                "nothing to forget: no snapshot ids and no keep policy given",
                hint="name snapshots by id, or give a policy such as --keep-last 7 --keep-daily 30",
            )


def forget(
    workspace: Workspace, request: ForgetRequest, progress: Progress = SILENT
) -> ForgetOutcome | PolicyForgetResult:
    """``drkit forget``: per policy in each of its repositories, else in the workspace's one."""
    request.check()
    if request.policy is not None:
        return forget_policy(
            workspace,
            request.policy,
            request.fields,
            request.options,
            run_prune=request.run_prune,
            wait_lock=request.wait_lock,
            progress=progress,
        )
    return forget_snapshots(
        workspace.open_repo(load_index=False),
        list(request.ids),
        request.retention,
        request.fields,
        request.options,
        run_prune=request.run_prune,
        wait_lock=request.wait_lock,
        progress=progress,
    )


def forget_snapshots(
    repo: Repository,
    ids: list[str],
    retention: RetentionPolicy,
    fields: tuple[str, ...],
    options: PruneOptions,
    *,
    run_prune: bool = False,
    wait_lock: float = 0.0,
    only: Callable[[Snapshot], bool] | None = None,
    progress: Progress = SILENT,
) -> ForgetOutcome:
    """Remove the snapshots named by id, or those ``retention`` does not keep; prune on request."""
    with exclusive_lock(repo, "forget", wait_lock):
        outcome = _forget(repo, ids, retention, fields, options.dry_run, only, progress)
        if not run_prune:
            return outcome
        return ForgetOutcome(
            outcome.groups,
            outcome.chosen,
            outcome.dry_run,
            outcome.damaged,
            _prune_after(repo, options, outcome),
        )


def forget_policy(
    workspace: Workspace,
    name: str,
    fields: tuple[str, ...],
    options: PruneOptions,
    *,
    run_prune: bool = False,
    wait_lock: float = 0.0,
    progress: Progress = SILENT,
) -> PolicyForgetResult:
    """Each repository of policy ``name``, with its own retention, only the policy's snapshots."""
    chosen = workspace.policy(name)
    paths = policy_paths(chosen.sources)  # database sources carry the policy tag
    files = sorted(normalise_targets(paths)) if paths else []
    entries: list[PolicyForget] = []
    for repo_name in chosen.repositories:
        retention = chosen.retention_for(repo_name)
        if retention is None:
            entries.append(PolicyForget(repo_name, None, None))
            continue
        progress.phase(f"forget in {repo_name}")
        outcome = forget_snapshots(
            workspace.open_ref(repo_name),
            [],
            retention.to_policy(),
            fields,
            options,
            run_prune=run_prune,
            wait_lock=wait_lock,
            only=lambda snap: belongs_to_policy(name, snap.tags, snap.paths, files),
            progress=progress,
        )
        entries.append(PolicyForget(repo_name, retention.to_policy().describe(), outcome))
    return PolicyForgetResult(name, entries)


def _forget(
    repo: Repository,
    ids: list[str],
    policy: RetentionPolicy,
    fields: tuple[str, ...],
    dry_run: bool,
    only: Callable[[Snapshot], bool] | None,
    progress: Progress,
) -> ForgetOutcome:
    loaded = repo.snapshots(
        on_damaged=lambda name, exc: progress.warn(f"snapshot {name[:8]}: {exc}")
    )
    snapshots = [s for s in loaded if only is None or only(s)]
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


def snapshot_json(snap: Snapshot, reasons: list[str] | None = None) -> dict[str, Any]:
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


def _group_json(group: GroupDecision) -> dict[str, Any]:
    decision = group.decision
    return {
        "key": dict(group.key),
        "keep": [snapshot_json(s, decision.reasons[s.id]) for s in decision.keep],
        "remove": [snapshot_json(s) for s in decision.remove],
    }


def prune_json(result: PruneResult) -> dict[str, Any]:
    """The JSON shape of a prune (``drkit prune --json`` and the prune inside forget)."""
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
