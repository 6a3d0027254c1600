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
from typing import TYPE_CHECKING

from drkit.monitor.evidence import Outcome, standing_failures
from drkit.monitor.fact_rows import CheckRecord, FactRows, JobRunRecord, SeenSnapshot
from drkit.monitor.recovery import RecoveryFact, parse_recovery
from drkit.policy.compliance import live_site
from drkit.policy.membership import covers, policy_tag
from drkit.settings.model import Settings
from drkit.settings.policies import PolicySettings
from drkit.sources.postgres_physical_meta import SOURCE_TYPE as PHYSICAL
from drkit.sources.registry import policy_paths, source_labels

if TYPE_CHECKING:  # SQLAlchemy only when the rows are read through the ORM
    from sqlalchemy.orm import Session

    from drkit.catalog import Catalog

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
    # physical sources: the recovery point the latest archive check measured (label -> it);
    # their newest snapshot and newest verified above count it (see drkit.monitor.recovery)
    recovery: tuple[tuple[str, RecoveryFact], ...] = ()

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
    """The facts of the catalog's rows, read through the ORM."""
    return facts_from(orm_rows(catalog), settings, now)


def facts_from(rows: FactRows, settings: Settings, now: datetime) -> Facts:
    """The facts of every policy in ``settings`` from the catalog's rows (a pure function)."""
    snapshots = [s for s in rows.snapshots if s.gone_at is None]
    held = _held_paths(rows.snapshots)
    checks = list(rows.checks)
    policies = tuple(
        _policy(name, policy, settings, snapshots, checks, held, f"backup:{name}" in rows.backed_up)
        for name, policy in sorted(settings.policies.items())
    )
    return Facts(now=now, policies=policies, jobs=_latest_jobs(rows.runs))


def orm_rows(catalog: Catalog) -> FactRows:
    from sqlalchemy import select

    from drkit.catalog.tables import SnapshotRow, VerificationRow

    with catalog.session() as session:
        snapshots = tuple(
            SeenSnapshot(s.repository, s.snapshot_id, s.time, s.paths, s.tags, s.gone_at)
            for s in session.scalars(select(SnapshotRow))
        )
        checks = tuple(
            CheckRecord(
                r.repository,
                r.subject,
                r.kind,
                r.ok,
                r.started_at,
                r.duration_s,
                r.snapshot_id,
                r.summary,
                r.source,
            )
            for r in session.scalars(select(VerificationRow).order_by(VerificationRow.id))
        )
        runs, backed_up = _job_runs(session)
    return FactRows(snapshots, checks, runs, backed_up)


def _job_runs(session: Session) -> tuple[tuple[JobRunRecord, ...], frozenset[str]]:
    """The latest finished run of each job that a stop did not interrupt, and the backup
    jobs that ever ran: two queries on the runs' job index, not every run."""
    from sqlalchemy import func, select

    from drkit.catalog.tables import RunRow

    ended = (RunRow.job.is_not(None), RunRow.finished_at.is_not(None))
    counted = (*ended, RunRow.status != "interrupted")
    latest = select(func.max(RunRow.id)).where(*counted).group_by(RunRow.job)
    query = select(RunRow).where(RunRow.id.in_(latest)).order_by(RunRow.id)
    runs = tuple(
        JobRunRecord(str(r.job), r.status, r.finished_at, r.error, r.duration_s)
        for r in session.scalars(query)
    )
    backups = select(RunRow.job).where(*counted, RunRow.kind == "backup").distinct()
    return runs, frozenset(job for job in session.scalars(backups) if job)


def _policy(
    name: str,
    policy: PolicySettings,
    settings: Settings,
    snapshots: Sequence[SeenSnapshot],
    checks: Sequence[CheckRecord],
    held: Mapping[tuple[str, str], list[str]],
    backup_ran: bool,
) -> PolicyFacts:
    labels = source_labels(policy.sources)
    # plain paths (in any order among the sources) are backed up into one file snapshot
    files = {label for label, s in zip(labels, policy.sources, strict=True) if isinstance(s, str)}
    physical = {
        label
        for label, s in zip(labels, policy.sources, strict=True)
        if getattr(s, "type", None) == PHYSICAL
    }
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
        recovery = _recovery(checks, repo, name, physical)
        for label, fact in recovery.items():
            newest[label] = _later(newest[label], fact.time)
            verified[label] = _later(verified[label], fact.time) if verified[label] else None
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
                recovery=tuple(recovery.items()),
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


def _recovery(
    checks: Sequence[CheckRecord], repo: str, policy: str, physical: set[str]
) -> dict[str, RecoveryFact]:
    """The latest recovery point an archive check recorded for each physical source."""
    found: dict[str, RecoveryFact] = {}
    for row in checks:  # oldest first: a later measurement replaces an earlier one
        if row.repository != repo or row.kind != "archive-check" or row.source not in physical:
            continue
        if row.subject in ("", policy) and (fact := parse_recovery(row.summary)) is not None:
            found[row.source] = fact
    return found


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


def _held_paths(snapshots: Sequence[SeenSnapshot]) -> dict[tuple[str, str], list[str]]:
    """(repository, snapshot id) -> its paths, forgotten snapshots included (old evidence)."""
    return {(s.repository, s.snapshot_id): s.paths.split("\n") for s in snapshots}


def _restore_of(
    checks: Sequence[CheckRecord],
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


def proved_sources(row: CheckRecord, held: Mapping[tuple[str, str], list[str]]) -> _SourceTest:
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


def _verification(row: CheckRecord) -> Verification:
    return Verification(row.kind, row.ok, row.started_at, row.duration_s, row.summary)


def _damage(checks: Sequence[CheckRecord], repo: str) -> Verification | None:
    rows = [r for r in checks if r.repository == repo and r.kind in STRUCTURE_KINDS]
    standing = standing_failures([Outcome(r.kind, r.ok, r.summary) for r in rows])
    if not standing:
        return None
    row = rows[standing[-1]]
    return Verification(row.kind, row.ok, row.started_at, row.duration_s, row.summary)


def _newest(
    snaps: Sequence[SeenSnapshot], label: str, files: set[str], before: datetime | None = None
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


def _belongs(snap: SeenSnapshot, policy_name: str, policy: PolicySettings) -> bool:
    """A policy's snapshots carry its tag; untagged ones count when they cover its paths."""
    if policy_tag(policy_name) in snap.tags.split("\n"):
        return True
    paths = set(snap.paths.split("\n"))
    wanted = {os.path.normpath(os.path.abspath(p)) for p in policy_paths(policy.sources)}
    return bool(wanted) and wanted <= paths


def _last(
    checks: Sequence[CheckRecord],
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


def _latest_jobs(runs: Sequence[JobRunRecord]) -> tuple[JobFacts, ...]:
    """The latest run of each job that ended on its own: a run a stop interrupted says
    nothing (the daemon runs the job again at its next start)."""
    latest: dict[str, JobRunRecord] = {}
    for run in runs:
        if run.status == "interrupted":
            continue
        latest[run.job] = run
    return tuple(
        JobFacts(job, r.status, r.finished_at, r.error, r.duration_s)
        for job, r in sorted(latest.items())
    )
