"""Alert rules: pure functions from :class:`~drkit.monitor.facts.Facts` to firing conditions.

Every condition has a dedup key that stays the same while it holds, so an
alert opens once, is re-sent while open, and resolves when the condition
is gone. Rules:

- ``rpo:<policy>:<repo>``: the newest *verified* snapshot is older than the RPO
  (or there is none, once the policy's first scheduled backup has run). For a
  physical PostgreSQL source the newest recovery point counts (base backup plus
  gap-free WAL, as the latest archive check measured it), and the alert names
  the gap that holds it back. A gap fires it at once, before the point is older
  than the RPO: nothing archived after the gap can be replayed, so the point
  cannot move until a new base backup.
- ``rto:<policy>:<repo>:<source>``: the latest successful restore test or drill of
  the source took longer than the RTO (a failed one measured no recovery time).
- ``restore-test:<policy>:<repo>:<source>``: the latest restore test or drill of the
  source failed. Evidence is per source: a test of one source proves nothing of another.
- ``verify:<repo>``: a check found problems and no later evidence covers them
  (:mod:`drkit.monitor.evidence`: a structure check does not clear damage a read found).
- ``job:<job id>``: the latest run of a scheduled job failed (a run a stop
  interrupted is run again, and only that run's outcome counts).
- ``321:<policy>:<source>``: the 3-2-1 rule does not hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from drkit.monitor.facts import Facts, PolicyFacts, RepositoryFacts, SourceRestore
from drkit.notify.base import Severity
from drkit.policy.compliance import RepositoryCopy, Rule, SourceState, evaluate
from drkit.policy.objectives import format_objective


@dataclass(frozen=True)
class Condition:
    dedup_key: str
    severity: Severity
    summary: str
    source: str
    details: tuple[tuple[str, str], ...] = ()


def evaluate_rules(facts: Facts) -> list[Condition]:
    conditions: list[Condition] = []
    for policy in facts.policies:
        for repo in policy.repositories:
            conditions += _rpo(policy, repo, facts)
            conditions += _restore(policy, repo)
        conditions += _three_two_one(policy, facts)
    conditions += _verification(facts)
    conditions += _jobs(facts)
    return conditions


def _rpo(policy: PolicyFacts, repo: RepositoryFacts, facts: Facts) -> Iterator[Condition]:
    if policy.rpo is None:
        return
    if repo.newest_snapshot is None and policy.first_backup_pending:
        return  # a new policy: judged once its first scheduled backup has had its slot
    where = f"policy {policy.name} / repository {repo.name}"
    key = f"rpo:{policy.name}:{repo.name}"
    if repo.newest_verified is None:
        missing = [label for label, newest in repo.per_source if newest is None]
        why = (
            f"no snapshot yet of {', '.join(missing)}"
            if missing
            else "no snapshot yet"
            if repo.newest_snapshot is None
            else "no verified snapshot yet"
        )
        yield Condition(
            key,
            Severity.ERROR,
            f"RPO {format_objective(policy.rpo)} missed: {why}",
            where,
            (("rpo", format_objective(policy.rpo)),),
        )
        return
    age = facts.now - repo.newest_verified
    if age > policy.rpo:
        yield Condition(
            key,
            Severity.ERROR,
            f"RPO {format_objective(policy.rpo)} missed: newest verified "
            f"{'recovery point' if repo.recovery else 'snapshot'} is "
            f"{format_objective(age)} old{_recovery_note(repo)}",
            where,
            (
                ("rpo", format_objective(policy.rpo)),
                ("age", format_objective(age)),
                ("newest_verified", repo.newest_verified.isoformat()),
            ),
        )
        return
    gaps = [(label, fact) for label, fact in repo.recovery if fact.gap]
    if gaps:
        yield Condition(
            key,
            Severity.ERROR,
            f"RPO {format_objective(policy.rpo)} at risk: the WAL chain is broken, so the "
            f"recovery point cannot move"
            + "".join(f"; {label}: {fact.text}" for label, fact in gaps),
            where,
            (
                ("rpo", format_objective(policy.rpo)),
                ("gap", ", ".join(str(fact.gap) for _, fact in gaps)),
                ("newest_verified", repo.newest_verified.isoformat()),
            ),
        )


def _recovery_note(repo: RepositoryFacts) -> str:
    """What stops a physical source's recovery short (a gap), or how far it recovers."""
    gaps = [fact.text for _, fact in repo.recovery if fact.gap or fact.time is None]
    texts = gaps or [fact.text for _, fact in repo.recovery if fact.time == repo.newest_verified]
    return "".join(f"; {t}" for t in texts)


def _restore(policy: PolicyFacts, repo: RepositoryFacts) -> Iterator[Condition]:
    for restore in repo.restores:
        yield from _source_restore(policy, repo, restore)


def _source_restore(
    policy: PolicyFacts, repo: RepositoryFacts, restore: SourceRestore
) -> Iterator[Condition]:
    test = restore.last
    if test is None:
        return
    where = f"policy {policy.name} / repository {repo.name} / source {restore.source}"
    suffix = f"{policy.name}:{repo.name}:{restore.source}"
    if not test.ok:
        yield Condition(
            f"restore-test:{suffix}",
            Severity.ERROR,
            f"restore test of {restore.source} failed: {test.summary or 'see the run'}",
            where,
            (("time", test.time.isoformat()),),
        )
    good = restore.last_good  # a failed restore measured no recovery time
    if good is None:
        return
    measured = timedelta(seconds=good.duration_s)
    if policy.rto is not None and measured > policy.rto:
        yield Condition(
            f"rto:{suffix}",
            Severity.ERROR,
            f"RTO {format_objective(policy.rto)} missed: "
            f"the last restore of {restore.source} took {format_objective(measured)}",
            where,
            (("rto", format_objective(policy.rto)), ("measured", format_objective(measured))),
        )


def _three_two_one(policy: PolicyFacts, facts: Facts) -> Iterator[Condition]:
    for source in policy.sources:
        copies = tuple(
            RepositoryCopy(r.name, r.media, r.site, dict(r.per_source).get(source))
            for r in policy.repositories
        )
        state = SourceState(source, policy.site, "disk", copies, policy.rpo, facts.now)
        failing = [r for r in evaluate(state).rules if not r.ok and r.rule is not Rule.RPO]
        if failing:
            yield Condition(
                f"321:{policy.name}:{source}",
                Severity.WARNING,
                "3-2-1 not met: " + "; ".join(f"{r.rule.value}: {r.detail}" for r in failing),
                f"policy {policy.name} / source {source}",
            )


def _verification(facts: Facts) -> Iterator[Condition]:
    seen: set[str] = set()
    for policy in facts.policies:
        for repo in policy.repositories:
            check = repo.damage
            if repo.name in seen or check is None:
                continue
            seen.add(repo.name)
            yield Condition(
                f"verify:{repo.name}",
                Severity.CRITICAL,
                f"{check.kind} of repository {repo.name} found problems: "
                f"{(check.summary.splitlines() or ['see the run'])[0]}",
                f"repository {repo.name}",
                (("time", check.time.isoformat()),),
            )


def _jobs(facts: Facts) -> Iterator[Condition]:
    for job in facts.jobs:
        if job.status in ("failed", "interrupted"):
            yield Condition(
                f"job:{job.job}",
                Severity.ERROR,
                f"job {job.job} {job.status}: {job.error or 'see the run'}",
                f"job {job.job}",
            )
