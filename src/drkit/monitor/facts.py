"""What the monitor knows, gathered from the catalog into one immutable snapshot.

The rules (:mod:`drkit.monitor.rules`) are pure functions of these facts;
this module is the only one that queries for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import RunRow, SnapshotRow, VerificationRow
from drkit.monitor.evidence import Outcome, standing_failures
from drkit.policy.membership import policy_tag
from drkit.settings.model import Settings
from drkit.settings.policies import PolicySettings
from drkit.sources.registry import policy_paths, source_labels

STRUCTURE_KINDS = ("check", "read-data", "read-subset", "repair")
RESTORE_KINDS = ("restore-test", "drill")


@dataclass(frozen=True)
class Verification:
    kind: str
    ok: bool
    time: datetime
    duration_s: float
    summary: str


@dataclass(frozen=True)
class RepositoryFacts:
    name: str
    media: str
    site: str
    newest_snapshot: datetime | None  # of the policy's stalest source: None if one has none
    newest_verified: datetime | None  # the same, counting snapshots older than the last good check
    last_check: Verification | None
    last_restore: Verification | None
    per_source: tuple[tuple[str, datetime | None], ...] = ()  # source label -> its newest snapshot
    # the newest failed check no later evidence covers (see drkit.monitor.evidence)
    damage: Verification | None = None
    last_good_restore: Verification | None = None  # its duration is the measured RTO


@dataclass(frozen=True)
class JobFacts:
    job: str
    status: str
    finished_at: datetime | None
    error: str | None
    duration_s: float | None


@dataclass(frozen=True)
class PolicyFacts:
    name: str
    sources: tuple[str, ...]
    site: str
    rpo: timedelta | None
    rto: timedelta | None
    repositories: tuple[RepositoryFacts, ...]
    # scheduled backups, none finished yet: RPO is judged from the first slot on
    first_backup_pending: bool = False


@dataclass(frozen=True)
class Facts:
    now: datetime
    policies: tuple[PolicyFacts, ...]
    jobs: tuple[JobFacts, ...]  # the latest finished run of every job


def gather(catalog: Catalog, settings: Settings, now: datetime) -> Facts:
    with catalog.session() as session:
        snapshots = list(session.scalars(select(SnapshotRow).where(SnapshotRow.gone_at.is_(None))))
        checks = list(session.scalars(select(VerificationRow).order_by(VerificationRow.id)))
        runs = list(
            session.scalars(
                select(RunRow)
                .where(RunRow.job.is_not(None), RunRow.finished_at.is_not(None))
                .order_by(RunRow.id)
            )
        )
    backed_up = {r.job for r in runs if r.kind == "backup" and r.status != "interrupted"}
    policies = tuple(
        _policy(name, policy, settings, snapshots, checks, f"backup:{name}" in backed_up)
        for name, policy in sorted(settings.policies.items())
    )
    return Facts(now=now, policies=policies, jobs=_latest_jobs(runs))


def _policy(
    name: str,
    policy: PolicySettings,
    settings: Settings,
    snapshots: Sequence[SnapshotRow],
    checks: Sequence[VerificationRow],
    backup_ran: bool,
) -> PolicyFacts:
    labels = source_labels(policy.sources)
    files = set(labels[: len(policy_paths(policy.sources))])  # plain paths: one file snapshot
    repos = []
    for repo in policy.repositories:
        repo_settings = settings.repositories[repo]
        mine = [s for s in snapshots if s.repository == repo and _belongs(s, name, policy)]
        last_check = _last(checks, repo, STRUCTURE_KINDS)
        last_good = _last(checks, repo, STRUCTURE_KINDS, ok_only=True)
        newest = {label: _newest(mine, label, files) for label in labels}
        verified = {
            label: _newest(mine, label, files, before=last_good.time if last_good else None)
            for label in labels
        }
        repos.append(
            RepositoryFacts(
                name=repo,
                media=repo_settings.media.value,
                site=repo_settings.site,
                newest_snapshot=_stalest(newest.values()),
                newest_verified=_stalest(verified.values()) if last_good else None,
                last_check=last_check,
                last_restore=_last(checks, repo, RESTORE_KINDS, policy=name),
                per_source=tuple(newest.items()),
                damage=_damage(checks, repo),
                last_good_restore=_last(checks, repo, RESTORE_KINDS, ok_only=True, policy=name),
            )
        )
    return PolicyFacts(
        name=name,
        sources=tuple(labels),
        site=policy.site,
        rpo=policy.rpo,
        rto=policy.rto,
        repositories=tuple(repos),
        first_backup_pending=bool(policy.schedule) and not backup_ran,
    )


def _damage(checks: Sequence[VerificationRow], repo: str) -> Verification | None:
    rows = [r for r in checks if r.repository == repo and r.kind in STRUCTURE_KINDS]
    standing = standing_failures([Outcome(r.kind, r.ok, r.summary) for r in rows])
    if not standing:
        return None
    row = rows[standing[-1]]
    return Verification(row.kind, row.ok, row.started_at, row.duration_s, row.summary)


def _newest(
    snaps: Sequence[SnapshotRow], label: str, files: set[str], before: datetime | None = None
) -> datetime | None:
    """The newest snapshot holding source ``label`` (a plain path: the policy's file snapshot)."""
    wanted = files if label in files else {label}
    times = [
        s.time
        for s in snaps
        if wanted <= set(s.paths.split("\n")) and (before is None or s.time <= before)
    ]
    return max(times, default=None)


def _stalest(times: Iterable[datetime | None]) -> datetime | None:
    """The policy is as fresh as its stalest source; a source without snapshots makes it None."""
    listed = list(times)
    if not listed or any(t is None for t in listed):
        return None
    return min(t for t in listed if t is not None)


def _belongs(snap: SnapshotRow, policy_name: str, policy: PolicySettings) -> bool:
    """A policy's snapshots carry its tag; untagged ones count when they cover its paths."""
    if policy_tag(policy_name) in snap.tags.split("\n"):
        return True
    paths = set(snap.paths.split("\n"))
    wanted = {os.path.normpath(os.path.abspath(p)) for p in policy_paths(policy.sources)}
    return bool(wanted) and wanted <= paths


def _last(
    checks: Sequence[VerificationRow],
    repo: str,
    kinds: tuple[str, ...],
    *,
    ok_only: bool = False,
    policy: str | None = None,
) -> Verification | None:
    for row in reversed(checks):
        if row.repository != repo or row.kind not in kinds or (ok_only and not row.ok):
            continue
        if policy is not None and row.subject not in ("", policy):
            continue
        return Verification(row.kind, row.ok, row.started_at, row.duration_s, row.summary)
    return None


def _latest_jobs(runs: Sequence[RunRow]) -> tuple[JobFacts, ...]:
    """The latest run of each job that ended on its own: a run a stop interrupted says
    nothing (the daemon runs the job again at its next start)."""
    latest: dict[str, RunRow] = {}
    for run in runs:
        assert run.job is not None
        if run.status == "interrupted":
            continue
        latest[run.job] = run
    return tuple(
        JobFacts(job, r.status, r.finished_at, r.error, r.duration_s)
        for job, r in sorted(latest.items())
    )
