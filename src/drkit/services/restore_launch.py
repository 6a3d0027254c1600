"""Restores, restore tests and backup drills as runs a long-lived face starts (the API, the
dashboard): the request checked now, the operation for serve's launcher.

Each ``plan_*`` refuses bad input before anything runs (an unknown policy,
repository or source; a target that is not an absolute, empty directory) and
returns a :class:`Planned`: the run's kind and subject, the audit action, the
operation (the CLI's: `drkit restore`, `drkit verify restore-test --policy`,
`drkit drill backup --policy`) and the judge that fails the run when its result
did not pass. :func:`launch` starts it and audits the start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drkit.errors import UsageError
from drkit.services.audit import Actor, audit
from drkit.services.launch import JournalProgress, Judge, Launcher, Operation
from drkit.users.audit import Outcome

if TYPE_CHECKING:
    from drkit.services.restore import RestoreOutcome, RestoreSpec
    from drkit.services.workspace import Workspace
    from drkit.verify.drill import DrillReport
    from drkit.verify.restore_test import RestoreTestResult


@dataclass(frozen=True)
class Planned:
    kind: str
    subject: str
    action: str  # the audit entry's action
    operation: Operation
    judge: Judge


def launch(launcher: Launcher, ws: Workspace, actor: Actor, planned: Planned) -> int:
    """Start ``planned`` in ``launcher``, audit the start; the run's id."""
    run_id = launcher.launch(
        planned.kind, planned.subject, planned.operation, judge=planned.judge, cancellable=True
    )
    audit(ws, actor, planned.action, planned.subject, Outcome.OK, f"run {run_id}")
    return run_id


def plan_restore(ws: Workspace, spec: RestoreSpec) -> Planned:
    """Restore from a repository of drkit.yaml into an absolute, empty (or overwritten) target."""
    from drkit.services.restore import RestoreOutcome, check, restore

    named_repository(ws, spec.repository or "")
    if not os.path.isabs(spec.target):
        raise UsageError(
            f"the target {spec.target!r} is not an absolute path",
            hint="name the directory to restore into from the root, e.g. /srv/restore",
        )
    if spec.policy is not None:
        ws.policy(spec.policy)
    check(spec)  # not a directory, or not empty: refused now

    def run(one: Workspace, progress: JournalProgress) -> RestoreOutcome:
        return restore(one, spec, progress)

    subject = f"{spec.repository}:{spec.snapshot}"
    return Planned("restore", subject, "restore.start", run, RestoreOutcome.judge)


def plan_restore_test(
    ws: Workspace,
    policy: str,
    *,
    source: str | None = None,
    repository: str | None = None,
    snapshot: str | None = None,
) -> Planned:
    """Restore-test ``source`` of ``policy`` (its newest snapshot, or ``snapshot``) from one
    of its repositories; the evidence is recorded for the RTO as a scheduled test's is."""
    from drkit.services.restore_test import RestoreTestRequest, restore_test, restore_test_failure
    from drkit.verify.journaling import record_restore_evidence

    repo = policy_repository(ws, policy, repository)
    path = source_path(ws, policy, source)
    test = RestoreTestRequest(snapshot=snapshot, path=path, policy=policy)

    def run(one: Workspace, progress: JournalProgress) -> RestoreTestResult:
        one.repo = repo
        live, journal = progress.live_only(), progress.journal
        result = restore_test(one, test, repository=repo, progress=live, journal=journal)
        record_restore_evidence(one.catalog(), repo, policy, result, kind="restore-test")
        return result

    return Planned("restore-test", policy, "restore-test.start", run, restore_test_failure)


def plan_drill(
    ws: Workspace, policy: str, *, repository: str | None = None, snapshot: str | None = None
) -> Planned:
    """A backup drill of ``policy``: each repository (or ``repository``) against its RTO."""
    from drkit.services.drill import DrillRequest, drill, drill_failure

    if repository is not None:
        policy_repository(ws, policy, repository)
    else:
        ws.policy(policy)
    wanted = DrillRequest(policy, repository=repository, snapshot=snapshot)

    def run(one: Workspace, progress: JournalProgress) -> DrillReport:
        return drill(one, wanted, progress=progress.live_only(), journal=progress.journal)

    return Planned("drill", policy, "drill.start", run, drill_failure)


def named_repository(ws: Workspace, ref: str) -> None:
    """Only repositories of drkit.yaml: a face never opens a URL a caller names."""
    if ref not in ws.settings.repositories:
        known = ", ".join(sorted(ws.settings.repositories)) or "none"
        raise UsageError(f"no repository {ref!r} in drkit.yaml", hint=f"defined: {known}")


def policy_repository(ws: Workspace, policy: str, asked: str | None) -> str:
    """``asked`` when it is one of the policy's repositories; the policy's first without."""
    repositories = list(ws.policy(policy).repositories)
    if asked is None:
        if not repositories:
            raise UsageError(f"policy {policy!r} has no repository", hint="add one in drkit.yaml")
        return repositories[0]
    if asked not in repositories:
        raise UsageError(
            f"policy {policy!r} does not back up into {asked!r}",
            hint=f"its repositories: {', '.join(repositories) or 'none'}",
        )
    return asked


def source_path(ws: Workspace, policy: str, source: str | None) -> str | None:
    """The path a restore test of ``source`` chooses snapshots by (None: the policy's newest).

    A policy with several restore targets (files, a database, ...) needs the source
    named: its newest snapshot holds one of them only."""
    from drkit.policy.restore_targets import restore_targets
    from drkit.services.backup import one_source
    from drkit.sources.registry import source_labels

    chosen = ws.policy(policy)
    targets = restore_targets(chosen)
    if source is None:
        if len(targets) > 1:
            raise UsageError(
                f"policy {policy!r} has {len(targets)} sources to restore-test: name one",
                hint=f"its sources: {', '.join(t.label for t in targets)}",
            )
        return None
    (label,) = source_labels([one_source(chosen, source)])
    found = [t for t in targets if label in t.sources]
    return found[0].path if found and len(targets) > 1 else None
