"""Alert rules as tables of facts -> firing conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.monitor.facts import (
    Facts,
    JobFacts,
    PolicyFacts,
    RepositoryFacts,
    SourceRestore,
    Verification,
)
from drkit.monitor.rules import evaluate_rules
from drkit.notify.base import Severity

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def repo(
    name: str = "local",
    *,
    site: str = "office",
    media: str = "disk",
    newest: timedelta | None = HOUR,
    verified: timedelta | None = HOUR,
    check_ok: bool | None = True,
    restore: tuple[bool, float] | None = None,
) -> RepositoryFacts:
    def ago(delta: timedelta | None) -> datetime | None:
        return None if delta is None else NOW - delta

    return RepositoryFacts(
        name=name,
        media=media,
        site=site,
        per_source=(("/srv/app", ago(newest)),),
        newest_snapshot=ago(newest),
        newest_verified=ago(verified),
        last_check=None if check_ok is None else Verification("check", check_ok, NOW, 1.0, "bad"),
        damage=Verification("check", False, NOW, 1.0, "bad") if check_ok is False else None,
        restores=(
            SourceRestore(
                "/srv/app",
                ago(newest),
                None
                if restore is None
                else Verification("restore-test", restore[0], NOW, restore[1], "restore failed"),
                Verification("restore-test", True, NOW, restore[1], "")
                if restore is not None and restore[0]
                else None,
            ),
        ),
    )


def facts(
    *repos: RepositoryFacts,
    rpo: timedelta | None = 24 * HOUR,
    rto: timedelta | None = HOUR,
    jobs: tuple[JobFacts, ...] = (),
    first_backup_pending: bool = False,
) -> Facts:
    policy = PolicyFacts(
        "app", ("/srv/app",), "office", rpo, rto, tuple(repos), first_backup_pending
    )
    return Facts(NOW, (policy,), jobs)


COMPLIANT = (repo("local"), repo("tape", media="tape"), repo("offsite", site="dc2"))


def keys(f: Facts) -> dict[str, Severity]:
    return {c.dedup_key: c.severity for c in evaluate_rules(f)}


def test_a_compliant_verified_policy_raises_nothing() -> None:
    assert keys(facts(*COMPLIANT)) == {}


@pytest.mark.parametrize(
    ("broken", "expected_key", "severity"),
    [
        (repo("offsite", site="dc2", verified=48 * HOUR), "rpo:app:offsite", Severity.ERROR),
        (repo("offsite", site="dc2", verified=None), "rpo:app:offsite", Severity.ERROR),
        (
            repo("offsite", site="dc2", newest=None, verified=None),
            "rpo:app:offsite",
            Severity.ERROR,
        ),
        (repo("offsite", site="dc2", check_ok=False), "verify:offsite", Severity.CRITICAL),
        (
            repo("offsite", site="dc2", restore=(False, 5.0)),
            "restore-test:app:offsite:/srv/app",
            Severity.ERROR,
        ),
        (
            repo("offsite", site="dc2", restore=(True, 7200.0)),
            "rto:app:offsite:/srv/app",
            Severity.ERROR,
        ),
    ],
)
def test_one_broken_repository(
    broken: RepositoryFacts, expected_key: str, severity: Severity
) -> None:
    found = keys(facts(COMPLIANT[0], COMPLIANT[1], broken))
    assert found.get(expected_key) is severity


def test_a_restore_within_the_rto_raises_nothing() -> None:
    assert (
        keys(facts(COMPLIANT[0], COMPLIANT[1], repo("offsite", site="dc2", restore=(True, 60.0))))
        == {}
    )


def test_no_rpo_means_no_rpo_alert_even_without_snapshots() -> None:
    found = keys(
        facts(*COMPLIANT[:2], repo("offsite", site="dc2", newest=None, verified=None), rpo=None)
    )
    assert not any(k.startswith("rpo:") for k in found)


def test_three_two_one_fails_without_an_offsite_copy() -> None:
    conditions = evaluate_rules(facts(repo("local"), repo("tape", media="tape")))
    (cond,) = [c for c in conditions if c.dedup_key.startswith("321:")]
    assert cond.dedup_key == "321:app:/srv/app"
    assert "off-site" in cond.summary


def test_failed_and_interrupted_jobs_alert_until_a_run_succeeds() -> None:
    jobs = (
        JobFacts("backup:app", "failed", NOW, "storage unreachable", 3.0),
        JobFacts("check:app:local", "interrupted", NOW, None, 1.0),
        JobFacts("copy:app:local", "succeeded", NOW, None, 1.0),
    )
    conditions = {c.dedup_key: c for c in evaluate_rules(facts(*COMPLIANT, jobs=jobs))}
    assert set(conditions) == {"job:backup:app", "job:check:app:local"}
    assert "storage unreachable" in conditions["job:backup:app"].summary


def test_a_stale_database_source_breaks_three_two_one_for_that_source_only() -> None:
    fresh, stale = NOW - HOUR, None
    repos = tuple(
        RepositoryFacts(
            r.name,
            r.media,
            r.site,
            r.newest_snapshot,
            None,
            r.last_check,
            per_source=(("/srv/app", fresh), ("postgres://db1:5432/app", stale)),
        )
        for r in COMPLIANT
    )
    policy = PolicyFacts(
        "app", ("/srv/app", "postgres://db1:5432/app"), "office", 24 * HOUR, HOUR, repos
    )
    conditions = {c.dedup_key: c for c in evaluate_rules(Facts(NOW, (policy,), ()))}
    assert "321:app:postgres://db1:5432/app" in conditions
    assert "321:app:/srv/app" not in conditions
    assert "no snapshot yet of postgres://db1:5432/app" in conditions["rpo:app:local"].summary


def test_a_new_policy_is_not_judged_before_its_first_scheduled_backup() -> None:
    empty = (repo("local", newest=None, verified=None),)
    assert "rpo:app:local" not in keys(facts(*empty, first_backup_pending=True))
    assert "rpo:app:local" in keys(facts(*empty, first_backup_pending=False))
    # a pending first backup does not excuse an old snapshot already there
    stale = (repo("local", verified=48 * HOUR),)
    assert "rpo:app:local" in keys(facts(*stale, first_backup_pending=True))


def test_damage_that_stands_raises_verify_even_after_a_good_structure_check() -> None:
    damaged = RepositoryFacts(
        name="local",
        media="disk",
        site="office",
        newest_snapshot=NOW - HOUR,
        newest_verified=NOW - HOUR,
        last_check=Verification("check", True, NOW, 1.0, ""),  # the latest check passed
        per_source=(("/srv/app", NOW - HOUR),),
        damage=Verification("read-subset", False, NOW - HOUR, 1.0, "damaged pack\nread packs: a"),
    )
    (cond,) = [c for c in evaluate_rules(facts(damaged)) if c.dedup_key == "verify:local"]
    assert cond.severity is Severity.CRITICAL
    assert cond.summary.endswith("found problems: damaged pack")


def test_a_failed_restore_measures_no_rto() -> None:
    slow_failure = repo("offsite", site="dc2", restore=(False, 7200.0))
    found = keys(facts(COMPLIANT[0], COMPLIANT[1], slow_failure))
    assert "restore-test:app:offsite:/srv/app" in found
    assert "rto:app:offsite:/srv/app" not in found


def test_restore_evidence_is_per_source_a_test_of_one_says_nothing_of_the_other() -> None:
    db = "postgres://db1:5432/app"
    failed = Verification("drill", False, NOW, 1.0, "pg_restore failed")
    tested = repo("offsite", site="dc2")
    tested = RepositoryFacts(
        tested.name,
        tested.media,
        tested.site,
        tested.newest_snapshot,
        tested.newest_verified,
        tested.last_check,
        per_source=(("/srv/app", NOW - HOUR), (db, NOW - HOUR)),
        restores=(
            SourceRestore("/srv/app", NOW - HOUR, None, None),
            SourceRestore(db, NOW - HOUR, failed, None),
        ),
    )
    found = keys(facts(COMPLIANT[0], COMPLIANT[1], tested))
    assert f"restore-test:app:offsite:{db}" in found
    assert "restore-test:app:offsite:/srv/app" not in found


def test_a_wal_gap_raises_the_rpo_alert_before_the_point_is_older_than_the_rpo() -> None:
    from dataclasses import replace

    from drkit.monitor.recovery import RecoveryFact

    gap = "000000010000000000000003"
    fact = RecoveryFact(NOW - HOUR, gap, f"cluster 1 recovers to ...; WAL segment {gap} is missing")
    broken = replace(repo("local"), recovery=(("pg", fact),))
    conditions = [c for c in evaluate_rules(facts(broken)) if c.dedup_key == "rpo:app:local"]
    assert len(conditions) == 1 and "at risk" in conditions[0].summary
    assert gap in conditions[0].summary and ("gap", gap) in conditions[0].details
    healthy = replace(repo("local"), recovery=(("pg", replace(fact, gap=None)),))
    assert "rpo:app:local" not in keys(facts(healthy))
