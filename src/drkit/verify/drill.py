"""Backup drills: restore each source's newest snapshot from each repository of a policy.

A drill is a restore test per source and repository of a policy (or of one
chosen repository) with the measured recovery time judged against the
policy's RTO objective. A policy of a PostgreSQL, a MariaDB and a Redis
source has three newest snapshots in each repository, one per source, and
each is restored: testing only the newest snapshot of the policy would prove
one source and say nothing of the others. The plain paths of a policy are
backed up together into one file snapshot, so they are one test.

Each test must meet the objective on its own: a disaster may leave only one
repository. A repository that cannot be opened, or has no snapshot of a
source, fails that entry with its error; the others are still tested.
Rendering (table, JSON) is the CLI's business.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from drkit.errors import DrkitError, UsageError
from drkit.policy.membership import policy_tag
from drkit.policy.restore_targets import RestoreTarget, restore_targets
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.settings.policies import PolicySettings
from drkit.verify.restore_test import RestoreTestResult, RestoreTestSpec, run_restore_test
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks

Opener = Callable[[str], Repository]  # repository name -> opened repository

HooksFor = Callable[[str], StepHooks]  # entry name (see DrillEntry.name) -> its hooks


class DrillVerdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # a restore test failed or could not run
    RTO_MISSED = "rto-missed"  # every test passed, one took longer than the objective


@dataclass(frozen=True)
class DrillEntry:
    """The drill of one source in one repository: its restore test, or why it could not run."""

    repository: str
    objective: timedelta | None
    result: RestoreTestResult | None = None
    error: str = ""
    error_code: str = ""
    sources: tuple[str, ...] = ()  # the policy's sources this entry was to prove

    @property
    def source(self) -> str:
        return ", ".join(self.sources)

    @property
    def proved(self) -> tuple[str, ...]:
        """The sources the evidence is about: those the tested snapshot holds, else the target's."""
        if self.result is not None and self.result.sources:
            return self.result.sources
        return self.sources

    @property
    def rto_met(self) -> bool | None:
        """None when there is no objective or no measurement."""
        if self.objective is None or self.result is None:
            return None
        return self.result.rto_s <= self.objective.total_seconds()

    @property
    def verdict(self) -> DrillVerdict:
        if self.result is None or not self.result.passed:
            return DrillVerdict.FAILED
        return DrillVerdict.RTO_MISSED if self.rto_met is False else DrillVerdict.PASSED

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "source": self.source,
            "sources": list(self.sources),
            "verdict": self.verdict.value,
            "rto_met": self.rto_met,
            "error": self.error,
            "error_code": self.error_code,
            "restore_test": self.result.to_json() if self.result is not None else None,
        }


@dataclass(frozen=True)
class DrillReport:
    policy: str
    objective: timedelta | None
    started_at: datetime
    entries: tuple[DrillEntry, ...]

    @property
    def measured_rto_s(self) -> float | None:
        """The slowest repository's recovery time: what the policy can promise."""
        times = [e.result.rto_s for e in self.entries if e.result is not None]
        return max(times) if times else None

    @property
    def verdict(self) -> DrillVerdict:
        verdicts = {e.verdict for e in self.entries}
        for worst in (DrillVerdict.FAILED, DrillVerdict.RTO_MISSED):
            if worst in verdicts:
                return worst
        return DrillVerdict.PASSED

    @property
    def passed(self) -> bool:
        return self.verdict is DrillVerdict.PASSED

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "verdict": self.verdict.value,
            "passed": self.passed,
            "objective_s": self.objective.total_seconds() if self.objective else None,
            "measured_rto_s": _rounded(self.measured_rto_s),
            "started_at": self.started_at.isoformat(),
            "repositories": [e.to_json() for e in self.entries],
        }


def run_drill(
    name: str,
    policy: PolicySettings,
    open_repo: Opener,
    spec: RestoreTestSpec,
    *,
    repository: str | None = None,
    snapshot: str | None = None,
    hooks_for: HooksFor | None = None,
    progress: Progress | None = None,
) -> DrillReport:
    """Drill policy ``name``: each source's newest snapshot (or ``snapshot``) from each repository.

    ``spec`` gives scratch root, validation commands and timeout; its snapshot
    choice is replaced: per source, the newest snapshot tagged ``policy:NAME``
    holding it, or the given id (a fan-out backup has one id in every repository).
    """
    started_at = datetime.now(UTC)
    targets = restore_targets(policy) if snapshot is None else [RestoreTarget(None, ())]
    plan = _Plan(name, snapshot, len(targets) > 1, hooks_for)
    entries: list[DrillEntry] = []
    for repo_name in _repositories(policy, repository):
        entries += _drill_repository(repo_name, targets, policy, open_repo, spec, plan, progress)
    return DrillReport(name, policy.rto, started_at, tuple(entries))


@dataclass(frozen=True)
class _Plan:
    policy: str
    snapshot: str | None
    named: bool  # several targets: journal steps are named "repository source: step"
    hooks_for: HooksFor | None

    def choice(self, target: RestoreTarget) -> SnapshotChoice:
        if self.snapshot is not None:
            return SnapshotChoice(snapshot=self.snapshot)
        return SnapshotChoice(tags=(policy_tag(self.policy),), path=target.path)

    def hooks(self, repo_name: str, target: RestoreTarget) -> StepHooks | None:
        if self.hooks_for is None:
            return None
        name = f"{repo_name} {target.label}" if self.named else repo_name
        return self.hooks_for(name)


def _repositories(policy: PolicySettings, chosen: str | None) -> list[str]:
    if chosen is None:
        return list(policy.repositories)
    if chosen not in policy.repositories:
        raise UsageError(
            f"repository {chosen!r} is not one of the policy's",
            hint=f"the policy writes to: {', '.join(policy.repositories)}",
        )
    return [chosen]


def _drill_repository(
    repo_name: str,
    targets: list[RestoreTarget],
    policy: PolicySettings,
    open_repo: Opener,
    spec: RestoreTestSpec,
    plan: _Plan,
    progress: Progress | None,
) -> list[DrillEntry]:
    try:
        repo = open_repo(repo_name)
    except DrkitError as exc:
        return [
            DrillEntry(repo_name, policy.rto, None, exc.message, exc.code, t.sources)
            for t in targets
        ]
    entries = []
    for target in targets:
        try:
            result = run_restore_test(
                repo,
                dataclasses.replace(spec, choice=plan.choice(target)),
                repository=repo_name,
                hooks=plan.hooks(repo_name, target),
                progress=progress,
            )
        except DrkitError as exc:
            entry = DrillEntry(repo_name, policy.rto, None, exc.message, exc.code, target.sources)
        else:
            entry = DrillEntry(repo_name, policy.rto, result, sources=target.sources)
        entries.append(entry)
    return entries


def _rounded(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None
