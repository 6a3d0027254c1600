"""Backup drills: restore a policy's newest snapshot from each of its repositories, on demand.

A drill is a restore test per repository of a policy (or of one chosen
repository) with the measured recovery time judged against the policy's
RTO objective. Each repository must meet the objective on its own: a
disaster may leave only one of them. A repository that cannot be opened, or
has no snapshot of the policy, fails the drill with its error; the others
are still tested. Rendering (table, JSON) is the CLI's business.
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
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.settings.policies import PolicySettings
from drkit.verify.restore_test import RestoreTestResult, RestoreTestSpec, run_restore_test
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks

Opener = Callable[[str], Repository]  # repository name -> opened repository

HooksFor = Callable[[str], StepHooks]  # repository name -> hooks for its restore test


class DrillVerdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # a restore test failed or could not run
    RTO_MISSED = "rto-missed"  # every test passed, one took longer than the objective


@dataclass(frozen=True)
class DrillEntry:
    """The drill of one repository: its restore test, or why it could not run."""

    repository: str
    objective: timedelta | None
    result: RestoreTestResult | None = None
    error: str = ""
    error_code: str = ""

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
    """Drill policy ``name``: its newest snapshot (or ``snapshot``) from each repository.

    ``spec`` gives scratch root, validation commands and timeout; its snapshot
    choice is replaced: the newest snapshot tagged ``policy:NAME``, or the
    given id (a fan-out backup has one id in every repository).
    """
    started_at = datetime.now(UTC)
    choice = (
        SnapshotChoice(snapshot=snapshot) if snapshot else SnapshotChoice(tags=(policy_tag(name),))
    )
    spec = dataclasses.replace(spec, choice=choice)
    entries = tuple(
        _drill_one(repo_name, policy, open_repo, spec, hooks_for, progress)
        for repo_name in _repositories(policy, repository)
    )
    return DrillReport(name, policy.rto, started_at, entries)


def _repositories(policy: PolicySettings, chosen: str | None) -> list[str]:
    if chosen is None:
        return list(policy.repositories)
    if chosen not in policy.repositories:
        raise UsageError(
            f"repository {chosen!r} is not one of the policy's",
            hint=f"the policy writes to: {', '.join(policy.repositories)}",
        )
    return [chosen]


def _drill_one(
    repo_name: str,
    policy: PolicySettings,
    open_repo: Opener,
    spec: RestoreTestSpec,
    hooks_for: HooksFor | None,
    progress: Progress | None,
) -> DrillEntry:
    try:
        repo = open_repo(repo_name)
        result = run_restore_test(
            repo,
            spec,
            repository=repo_name,
            hooks=hooks_for(repo_name) if hooks_for else None,
            progress=progress,
        )
    except DrkitError as exc:
        return DrillEntry(repo_name, policy.rto, error=exc.message, error_code=exc.code)
    return DrillEntry(repo_name, policy.rto, result)


def _rounded(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None
