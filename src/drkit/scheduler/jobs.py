"""The jobs a drkit.yaml asks for: a pure function from settings to a list of jobs.

A job is a named cron schedule and the drkit commands its run executes, one
journal step per command. Running each step as its own `drkit ... --json`
process keeps the daemon small and alive whatever a step does (a crash, a
leak, a hung storage driver), and makes a scheduled run exactly what an
operator would type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from drkit.errors import DrkitError
from drkit.policy.objectives import format_objective
from drkit.policy.restore_targets import restore_targets
from drkit.runbooks.drills import drill_jobs
from drkit.settings.model import Settings
from drkit.settings.policies import PolicySettings
from drkit.settings.verification import cron_interval
from drkit.sources.registry import source_labels


class JobKind(StrEnum):
    BACKUP = "backup"
    RETENTION = "retention"
    COPY = "copy"
    CHECK = "check"
    READ_SUBSET = "read-subset"
    READ_DATA = "read-data"
    RESTORE_TEST = "restore-test"
    CONFIG_COLLECT = "config-collect"
    DRILL = "drill"
    ARCHIVE_CHECK = "archive-check"


@dataclass(frozen=True)
class Evidence:
    """Where the ``--json`` document of a job kind's step holds what it proved.

    Declared per kind (:data:`EVIDENCE`) beside the command the kind runs, so
    the daemon's recorder reads one named key instead of trying several: the
    keys are those of the command's ``to_json()`` (``RestoreTestResult``,
    ``SubsetCheckResult``), and a unit test holds them to it.
    """

    duration: str | None = None  # seconds measured by the command (a restore test: its RTO)
    snapshot: str | None = None  # the snapshot id proved
    sources: str | None = None  # the sources the proved snapshot holds (a list)
    packs: str | None = None  # the packs read: a list of {"pack": id, "status": ok|...}
    recovery: str | None = None  # a physical source's recovery point (pg check's JSON)


EVIDENCE: dict[JobKind, Evidence] = {
    JobKind.CHECK: Evidence(),
    JobKind.READ_DATA: Evidence(),
    JobKind.READ_SUBSET: Evidence(duration="duration_s", packs="results"),
    JobKind.RESTORE_TEST: Evidence(duration="rto_s", snapshot="snapshot", sources="sources"),
    JobKind.ARCHIVE_CHECK: Evidence(recovery="recovery_point"),
}


@dataclass(frozen=True)
class JobStep:
    """One command of a job: `drkit ARGV...`; its JSON output lands in the journal."""

    name: str
    argv: tuple[str, ...]
    # the policy's sources a restore test step is to prove (their labels), if any
    sources: tuple[str, ...] = ()
    # the next steps run even when this one fails (a restore test of each source)
    independent: bool = False


@dataclass(frozen=True)
class Job:
    id: str  # "backup:app", "check:app:offsite"
    kind: JobKind
    subject: str  # the policy (or runbook, or config source) it is about
    schedule: str  # five-field cron
    steps: tuple[JobStep, ...]
    repository: str | None = None
    # every repository its steps lock: jobs sharing one never run at once
    repositories: tuple[str, ...] = ()
    # jobs whose first success this one needs (a restore test needs its policy's backup)
    needs: tuple[str, ...] = ()


def plan_jobs(settings: Settings) -> list[Job]:
    """Every scheduled job of ``settings``, in a stable order."""
    jobs: list[Job] = []
    for name in sorted(settings.policies):
        jobs += _policy_jobs(name, settings.policies[name])
    history = settings.config_history
    collect = JobStep("collect configuration", ("config", "collect"))
    jobs.append(_job(JobKind.CONFIG_COLLECT, "config", history.schedule, [collect]))
    for drill in drill_jobs(settings):  # a second drill of one runbook is drill:NAME:2
        step = JobStep(f"drill {drill.runbook}", drill.argv)
        jobs.append(Job(drill.id, JobKind.DRILL, drill.runbook, drill.schedule, (step,)))
    return jobs


def _policy_jobs(name: str, policy: PolicySettings) -> list[Job]:
    jobs: list[Job] = []
    repos = tuple(policy.repositories)
    if policy.schedule:
        jobs.append(_backup_job(name, policy, policy.schedule))
    if policy.retention_schedule and _has_retention(policy):
        steps = [_forget_step(name), *_expire_wal_steps(policy)]
        jobs.append(
            _job(JobKind.RETENTION, name, policy.retention_schedule, steps, repositories=repos)
        )
    for copy in policy.copies:
        steps = [
            JobStep(f"copy {copy.from_} -> {to}", ("copy", "--from", copy.from_, "--to", to))
            for to in copy.to
        ]
        touched = (copy.from_, *copy.to)
        jobs.append(
            _job(JobKind.COPY, name, copy.schedule, steps, suffix=copy.from_, repositories=touched)
        )
    for repo in policy.repositories:
        jobs += _verification_jobs(name, policy, repo)
        jobs += _archive_check_jobs(name, policy, repo)
    if policy.schedule:  # a verification of a policy's data needs its first backup
        backup = f"{JobKind.BACKUP.value}:{name}"
        jobs = [replace(j, needs=(backup,)) if j.kind in _NEEDS_A_SNAPSHOT else j for j in jobs]
    return jobs


_NEEDS_A_SNAPSHOT = frozenset({"restore-test", "copy"})


def _backup_job(name: str, policy: PolicySettings, schedule: str) -> Job:
    steps = [JobStep("backup", ("backup", "--policy", name))]
    if _has_retention(policy) and not policy.retention_schedule:
        steps += [_forget_step(name), *_expire_wal_steps(policy)]
    return _job(JobKind.BACKUP, name, schedule, steps, repositories=tuple(policy.repositories))


def _forget_step(policy: str) -> JobStep:
    return JobStep("retention", ("forget", "--policy", policy, "--prune"))


def _expire_wal_steps(policy: PolicySettings) -> list[JobStep]:
    """After retention: drop archived WAL no remaining base backup needs (physical sources)."""
    physical = any(getattr(s, "type", None) == "postgres-physical" for s in policy.sources)
    if not physical:
        return []
    return [
        JobStep(f"expire WAL {repo}", ("--repo", repo, "pg", "expire-wal"))
        for repo in policy.repositories
    ]


def _has_retention(policy: PolicySettings) -> bool:
    return policy.retention is not None or bool(policy.repository_retention)


def _verification_jobs(name: str, policy: PolicySettings, repo: str) -> list[Job]:
    verification = policy.verification
    on = ("--repo", repo)
    jobs: list[Job] = []
    if verification.check:
        step = JobStep(f"check {repo}", (*on, "check"))
        jobs.append(_job(JobKind.CHECK, name, verification.check, [step], repository=repo))
    if verification.read_data:
        step = JobStep(f"check --read-data {repo}", (*on, "check", "--read-data"))
        jobs.append(_job(JobKind.READ_DATA, name, verification.read_data, [step], repository=repo))
    subset = verification.read_subset
    if subset.schedule:
        interval = cron_interval(subset.schedule, datetime.now(UTC))
        argv = (
            *on,
            "verify",
            "subset",
            "--period",
            format_objective(subset.period),
            "--interval",
            format_objective(interval),
            "--by",
            subset.by,
        )
        step = JobStep(f"read subset {repo}", argv)
        jobs.append(_job(JobKind.READ_SUBSET, name, subset.schedule, [step], repository=repo))
    restore = verification.restore_test
    if restore.schedule:
        steps = _restore_test_steps(name, policy, repo)
        jobs.append(_job(JobKind.RESTORE_TEST, name, restore.schedule, steps, repository=repo))
    return jobs


def _archive_check_jobs(name: str, policy: PolicySettings, repo: str) -> list[Job]:
    """Per physical source: `pg check` on its schedule, failing (and alerting through the
    job's alert) when the forced segment does not reach the repository within archive_lag."""
    labels = _labels(policy)
    physical = [s for s in policy.sources if getattr(s, "type", None) == "postgres-physical"]
    jobs = []
    for index, source in enumerate(physical):
        schedule = str(getattr(source, "archive_check", ""))
        if not schedule:
            continue
        argv = ["--repo", repo, "pg", "check", "--dsn", str(getattr(source, "dsn", ""))]
        password = getattr(source, "password_file", None)
        if password is not None:
            argv += ["--pg-password-file", str(password)]
        argv += ["--timeout", f"{float(getattr(source, 'archive_lag', 120.0)):g}"]
        argv += ["--reprove-after", str(getattr(source, "wal_reprove", "7d"))]
        step = JobStep(f"archive check {repo}", tuple(argv), sources=labels.get(id(source), ()))
        suffix = str(index + 1) if len(physical) > 1 else None
        job = _job(JobKind.ARCHIVE_CHECK, name, schedule, [step], repository=repo, suffix=suffix)
        jobs.append(job)
    return jobs


def _labels(policy: PolicySettings) -> dict[int, tuple[str, ...]]:
    """Each source's label (what its archive check measures), by identity; none when a
    source cannot be named yet (a password file missing: the check's run will say so)."""
    try:
        labels = source_labels(policy.sources)
    except DrkitError:
        return {}
    return {id(s): (label,) for s, label in zip(policy.sources, labels, strict=True)}


def _restore_test_steps(name: str, policy: PolicySettings, repo: str) -> list[JobStep]:
    """A restore test of each source's snapshot: the policy's newest proves one source only."""
    base = ("--repo", repo, "verify", "restore-test", "--policy", name)
    targets = restore_targets(policy)
    if len(targets) == 1:
        (only,) = targets
        return [JobStep(f"restore test {repo}", base, only.sources)]
    return [
        JobStep(
            f"restore test {repo} {t.label}",
            (*base, "--path", t.path or ""),
            t.sources,
            independent=True,  # a failure of one source must not leave the others untested
        )
        for t in targets
    ]


def _job(
    kind: JobKind,
    subject: str,
    schedule: str,
    steps: list[JobStep],
    *,
    repository: str | None = None,
    suffix: str | None = None,
    repositories: tuple[str, ...] = (),
) -> Job:
    parts = [kind.value, subject, *(p for p in (repository, suffix) if p)]
    return Job(
        id=":".join(parts),
        kind=kind,
        subject=subject,
        schedule=schedule,
        steps=tuple(steps),
        repository=repository,
        repositories=repositories or ((repository,) if repository else ()),
    )
