"""3-2-1 compliance: a table of cases, each asserting the exact verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.policy.compliance import RepositoryCopy, Rule, SourceState, evaluate

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FRESH = NOW - timedelta(hours=2)
STALE = NOW - timedelta(days=3)


def copy(
    name: str, media: str, site: str, newest: datetime | None = FRESH, error: str = ""
) -> RepositoryCopy:
    return RepositoryCopy(name, media, site, newest, error)


def state(
    *copies: RepositoryCopy,
    rpo: timedelta | None = timedelta(hours=24),
    live_site: str = "office",
    live_media: str = "disk",
) -> SourceState:
    return SourceState("/srv/app", live_site, live_media, copies, rpo, NOW)


CASES = [
    # (description, state, copies counted, failing rules)
    ("textbook 3-2-1", state(copy("nas", "disk", "office"), copy("s3", "object", "aws")), 3, set()),
    (
        "same site twice: no off-site copy",
        state(copy("nas", "disk", "office"), copy("usb", "disk", "office")),
        3,
        {Rule.MEDIA, Rule.OFFSITE},
    ),
    (
        "everything on one media",
        state(copy("nas", "disk", "office"), copy("dr", "disk", "dr")),
        3,
        {Rule.MEDIA},
    ),
    (
        "stale copies must not count",
        state(copy("nas", "disk", "office"), copy("s3", "object", "aws", STALE)),
        2,
        {Rule.COPIES, Rule.MEDIA, Rule.OFFSITE, Rule.RPO},
    ),
    (
        "no snapshot yet",
        state(copy("nas", "disk", "office", None), copy("s3", "object", "aws")),
        2,
        {Rule.COPIES, Rule.RPO},
    ),
    (
        "unreadable repository does not count",
        state(copy("nas", "disk", "office"), copy("s3", "object", "aws", error="timeout")),
        2,
        {Rule.COPIES, Rule.MEDIA, Rule.OFFSITE, Rule.RPO},
    ),
    (
        "no RPO: any snapshot counts",
        state(copy("nas", "disk", "office"), copy("s3", "object", "aws", STALE), rpo=None),
        3,
        set(),
    ),
    (
        "live data on object storage, one tape copy off-site",
        state(copy("tape", "tape", "vault"), live_media="object"),
        2,
        {Rule.COPIES},
    ),
    ("no repositories at all", state(), 1, {Rule.COPIES, Rule.MEDIA, Rule.OFFSITE}),
]


@pytest.mark.parametrize(
    ("description", "source", "copies", "failing"), CASES, ids=[c[0] for c in CASES]
)
def test_three_two_one(
    description: str, source: SourceState, copies: int, failing: set[Rule]
) -> None:
    result = evaluate(source)
    assert result.copies == copies
    assert {r.rule for r in result.failures()} == failing
    assert result.ok is (not failing)


def test_stale_copy_names_its_age_and_the_objective() -> None:
    result = evaluate(state(copy("s3", "object", "aws", STALE)))
    (verdict,) = result.verdicts
    assert not verdict.counts
    assert verdict.why == "stale: newest snapshot is 3d old, RPO is 1d"
    rpo = next(r for r in result.rules if r.rule is Rule.RPO)
    assert rpo.detail == "not within 1d: s3"


def test_offsite_lists_the_counting_offsite_repositories() -> None:
    result = evaluate(
        state(
            copy("nas", "disk", "office"),
            copy("s3", "object", "aws"),
            copy("b2", "object", "backblaze", STALE),
        )
    )
    assert result.offsite == ("s3",)
    assert result.media == ("disk", "object")


def test_a_policy_that_names_no_site_has_no_off_site_copy_whatever_the_repositories_say() -> None:
    from drkit.policy.compliance import NO_SITE, Rule, evaluate, live_site
    from drkit.settings.policies import PolicySettings

    unnamed = PolicySettings.model_validate({"sources": ["/srv"], "repositories": ["nas"]})
    named = PolicySettings.model_validate(
        {"sources": ["/srv"], "repositories": ["nas"], "site": "local"}
    )
    assert live_site(unnamed.site, "site" in unnamed.model_fields_set) == ""
    assert live_site(named.site, "site" in named.model_fields_set) == "local"
    # repositories at office and aws: with drkit's default site both looked off-site
    result = evaluate(
        state(copy("nas", "disk", "office"), copy("s3", "object", "aws"), live_site="")
    )
    (offsite,) = [r for r in result.rules if r.rule is Rule.OFFSITE]
    assert not offsite.ok and offsite.detail == NO_SITE
    assert result.offsite == ()


def test_a_wal_gap_counts_the_copy_out_even_within_the_rpo() -> None:
    from dataclasses import replace

    broken = replace(copy("nas", "disk", "office"), recovery="... missing or damaged", gap="SEG3")
    result = evaluate(state(broken, copy("s3", "object", "aws")))
    verdict = result.verdicts[0]
    assert not verdict.counts and verdict.why.startswith("WAL chain broken at SEG3")
    assert Rule.RPO in {r.rule for r in result.rules if not r.ok}
