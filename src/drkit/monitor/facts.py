"""What the monitor knows, gathered from the catalog into one immutable snapshot.

The rules (:mod:`drkit.monitor.rules`) are pure functions of these facts;
this module is the only one that queries for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from drkit.catalog import Catalog
from drkit.catalog.tables import RunRow, SnapshotRow, VerificationRow
from drkit.monitor.evidence import Outcome, standing_failures
from drkit.policy.compliance import live_site
from drkit.policy.membership import covers, policy_tag
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


class RestoreState(StrEnum):
    """Where a source stands on restore evidence in one repository."""

    NO_SNAPSHOT = "no snapshot"  # nothing to restore: never "ok", whatever was tested before
    NEVER_TESTED = "never tested"
    OK = "ok"  # the latest restore test or drill of this source passed
    FAILED = "failed"


@dataclass(frozen=True)
class SourceRestore:
    """The restore evidence of one source of a policy in one repository."""

    source: str  # its label, as snapshots record it
    newest_snapshot: datetime | None
    last: Verification | None  # the latest restore test or drill that proved this source
    last_good: Verification | None  # the latest that passed: its duration is the measured RTO

    @property
    def state(self) -> RestoreState:
        return self.judged(self.newest_snapshot)

    def judged(self, newest_snapshot: datetime | None) -> RestoreState:
        """The state given the newest snapshot of the source (as the repository lists it:
        the catalog learns of snapshots only from the daemon's scans)."""
        if newest_snapshot is None:
            return RestoreState.NO_SNAPSHOT
        if self.last is None:
            return RestoreState.NEVER_TESTED
        return RestoreState.OK if self.last.ok else RestoreState.FAILED


@dataclass(frozen=True)
class RepositoryFacts:
    name: str
    media: str
    site: str
    newest_snapshot: datetime | None  # of the policy's stalest source: None if one has none
    newest_verified: datetime | None  # the same, counting snapshots older than the last good check
    last_check: Verification | None
    per_source: tuple[tuple[str, datetime | None], ...] = ()  # source label -> its newest snapshot
    # the newest failed check no later evidence covers (see drkit.monitor.evidence)
    damage: Verification | None = None
    restores: tuple[SourceRestore, ...] = ()  # one per source of the policy, in its order

    def restore_of(self, source: str) -> SourceRestore | None:
        return next((r for r in self.restores if r.source == source), None)


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
        every_snapshot = list(session.scalars(select(SnapshotRow)))
        checks = list(session.scalars(select(VerificationRow).order_by(VerificationRow.id)))
        runs, backed_up = _job_runs(session)
    snapshots = [s for s in every_snapshot if s.gone_at is None]
    held = _held_paths(every_snapshot)
    policies = tuple(
        _policy(name, policy, settings, snapshots, checks, held, f"backup:{name}" in backed_up)
        for name, policy in sorted(settings.policies.items())
    )
    return Facts(now=now, policies=policies, jobs=_latest_jobs(runs))


def _job_runs(session: Session) -> tuple[list[RunRow], set[str]]:
    """The latest finished run of each job that a stop did not interrupt, and the backup
    jobs that ever ran: two queries on the runs' job index, not every run."""
    ended = (RunRow.job.is_not(None), RunRow.finished_at.is_not(None))
    counted = (*ended, RunRow.status != "interrupted")
    latest = select(func.max(RunRow.id)).where(*counted).group_by(RunRow.job)
    runs = list(session.scalars(select(RunRow).where(RunRow.id.in_(latest)).order_by(RunRow.id)))
    backups = select(RunRow.job).where(*counted, RunRow.kind == "backup").distinct()
    return runs, {job for job in session.scalars(backups) if job}


def _policy(
    name: str,
    policy: PolicySettings,
    settings: Settings,
    snapshots: Sequence[SnapshotRow],
    checks: Sequence[VerificationRow],
    held: Mapping[tuple[str, str], list[str]],
    backup_ran: bool,
) -> PolicyFacts:
    labels = source_labels(policy.sources)
    # plain paths (in any order among the sources) are backed up into one file snapshot
    files = {label for label, s in zip(labels, policy.sources, strict=True) if isinstance(s, str)}
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
                per_source=tuple(newest.items()),
                damage=_damage(checks, repo),
                restores=tuple(
                    _restore_of(checks, held, repo, name, label, newest[label]) for label in labels
                ),
            )
        )
    return PolicyFacts(
        name=name,
        sources=tuple(labels),
        site=live_site(policy.site, "site" in policy.model_fields_set),
        rpo=policy.rpo,
        rto=policy.rto,
        repositories=tuple(repos),
        first_backup_pending=bool(policy.schedule) and not backup_ran,
    )


def _held_paths(snapshots: Sequence[SnapshotRow]) -> dict[tuple[str, str], list[str]]:
    """(repository, snapshot id) -> its paths, forgotten snapshots included (old evidence)."""
    return {(s.repository, s.snapshot_id): s.paths.split("\n") for s in snapshots}


def _restore_of(
    checks: Sequence[VerificationRow],
    held: Mapping[tuple[str, str], list[str]],
    repo: str,
    policy: str,
    label: str,
    newest: datetime | None,
) -> SourceRestore:
    rows = [
        r
        for r in checks
        if r.repository == repo
        and r.kind in RESTORE_KINDS
        and r.subject in ("", policy)
        and label in proved_sources(r, held)
    ]
    good = [r for r in rows if r.ok]
    return SourceRestore(
        label,
        newest,
        _verification(rows[-1]) if rows else None,
        _verification(good[-1]) if good else None,
    )


def proved_sources(row: VerificationRow, held: Mapping[tuple[str, str], list[str]]) -> _SourceTest:
    """What a restore test or drill is evidence for: its source (and what lies below it);
    a row older than per-source evidence counts for what its snapshot held, when known."""
    if row.source:
        return _SourceTest([row.source])
    return _SourceTest(held.get((row.repository, row.snapshot_id or ""), []))


class _SourceTest:
    """``label in test``: whether the paths a test restored hold source ``label``."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and covers(self, label)


def _verification(row: VerificationRow) -> Verification:
    return Verification(row.kind, row.ok, row.started_at, row.duration_s, row.summary)


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
