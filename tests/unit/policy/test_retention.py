"""Tests for drkit.policy.retention: restic-style snapshot retention."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drkit.errors import UsageError
from drkit.policy import (
    UNLIMITED,
    RetentionPolicy,
    apply_retention,
    format_duration,
    group_snapshots,
    parse_duration,
)


@dataclass(frozen=True)
class Snap:
    """A stand-in for the real snapshot class; satisfies the Dated protocol."""

    id: str
    time: datetime
    tags: tuple[str, ...] = ()
    host: str = "db1"
    paths: tuple[str, ...] = ("/srv",)


def at(text: str) -> datetime:
    """A UTC time from ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def snaps(*pairs: tuple[str, str]) -> list[Snap]:
    return [Snap(snap_id, at(when)) for snap_id, when in pairs]


# 10 snapshots, one an hour: s0 is the oldest, s9 the newest.
TEN_HOURLY = [Snap(f"s{i}", at("2024-01-01 00:00") + timedelta(hours=i)) for i in range(10)]

# 10 days (2024-03-01 .. 2024-03-10) with three snapshots a day at 06, 12 and 18 o'clock.
THREE_A_DAY = [
    Snap(f"d{day:02d}-{hour:02d}", at(f"2024-03-{day:02d} {hour:02d}:00"))
    for day in range(1, 11)
    for hour in (6, 12, 18)
]

# 2020 has 53 ISO weeks: 2020-12-28 .. 2021-01-03 is week 53 of 2020.
ISO_2020_2021 = snaps(
    ("w52-sun", "2020-12-27 12:00"),  # 2020-W52
    ("w53-mon", "2020-12-28 12:00"),  # 2020-W53
    ("w53-thu", "2020-12-31 12:00"),  # 2020-W53
    ("w53-sun", "2021-01-03 12:00"),  # 2020-W53, although the calendar year is 2021
    ("w01-mon", "2021-01-04 12:00"),  # 2021-W01
    ("w01-sun", "2021-01-10 12:00"),  # 2021-W01
)

# 2024-12-30 is Monday of 2025-W01, although the calendar year is 2024.
ISO_2024_2025 = snaps(
    ("w52-sun", "2024-12-29 12:00"),  # 2024-W52
    ("w01-mon", "2024-12-30 12:00"),  # 2025-W01
    ("w01-thu", "2025-01-02 12:00"),  # 2025-W01
)

MONTHS = snaps(
    ("nov15", "2023-11-15 10:00"),
    ("dec01", "2023-12-01 10:00"),
    ("dec31", "2023-12-31 23:00"),
    ("jan01", "2024-01-01 00:30"),
    ("jan20", "2024-01-20 10:00"),
    ("feb29", "2024-02-29 10:00"),
)

WITHIN = snaps(
    ("old", "2024-05-01 12:00"),
    ("before-cutoff", "2024-05-08 11:59"),
    ("at-cutoff", "2024-05-08 12:00"),
    ("after-cutoff", "2024-05-08 12:01"),
    ("newest", "2024-05-10 12:00"),
)

TAGGED = [
    Snap("t1", at("2024-01-01 00:00"), ("prod",)),
    Snap("t2", at("2024-01-02 00:00"), ("nightly",)),
    Snap("t3", at("2024-01-03 00:00"), ("pin", "prod")),
    Snap("t4", at("2024-01-04 00:00"), ()),
    Snap("t5", at("2024-01-05 00:00"), ("PROD",)),
]


def ids(snapshots: list[Snap]) -> list[str]:
    return [snapshot.id for snapshot in snapshots]


def newest_first(snapshots: list[Snap]) -> list[str]:
    return [s.id for s in sorted(snapshots, key=lambda s: (s.time, s.id), reverse=True)]


CASES = [
    pytest.param(
        TEN_HOURLY,
        RetentionPolicy(last=3),
        ["s9", "s8", "s7"],
        id="keep-last 3 of 10",
    ),
    pytest.param(
        TEN_HOURLY,
        RetentionPolicy(last=UNLIMITED),
        newest_first(TEN_HOURLY),
        id="keep-last unlimited",
    ),
    pytest.param(
        THREE_A_DAY,
        RetentionPolicy(daily=7),
        ["d10-18", "d09-18", "d08-18", "d07-18", "d06-18", "d05-18", "d04-18"],
        id="daily 7 keeps the newest of each day",
    ),
    pytest.param(
        THREE_A_DAY[:6],  # two days, three snapshots each
        RetentionPolicy(daily=7),
        ["d02-18", "d01-18", "d01-06"],
        id="daily 7 with two days keeps the oldest additionally",
    ),
    pytest.param(
        THREE_A_DAY[:6],
        RetentionPolicy(hourly=2),
        ["d02-18", "d02-12"],
        id="hourly 2",
    ),
    pytest.param(
        ISO_2020_2021,
        RetentionPolicy(weekly=2),
        ["w01-sun", "w53-sun"],
        id="weekly 2 across ISO year boundary 2020-W53",
    ),
    pytest.param(
        ISO_2020_2021,
        RetentionPolicy(weekly=3),
        ["w01-sun", "w53-sun", "w52-sun"],
        id="weekly 3 across ISO year boundary 2020-W53",
    ),
    pytest.param(
        ISO_2024_2025,
        RetentionPolicy(weekly=5),
        ["w01-thu", "w52-sun"],
        id="weekly across ISO year boundary 2025-W01",
    ),
    pytest.param(
        MONTHS,
        RetentionPolicy(monthly=3),
        ["feb29", "jan20", "dec31"],
        id="monthly 3",
    ),
    pytest.param(
        MONTHS,
        RetentionPolicy(yearly=2),
        ["feb29", "dec31"],
        id="yearly 2",
    ),
    pytest.param(
        MONTHS,
        RetentionPolicy(yearly=5),
        ["feb29", "dec31", "nov15"],
        id="yearly 5 keeps the oldest additionally",
    ),
    pytest.param(
        MONTHS,
        RetentionPolicy(monthly=2, yearly=2),
        ["feb29", "jan20", "dec31"],
        id="monthly 2 and yearly 2 union",
    ),
    pytest.param(
        WITHIN,
        RetentionPolicy(within=timedelta(days=2)),
        ["newest", "after-cutoff"],
        id="keep-within 2d is strictly newer than newest minus 2d",
    ),
    pytest.param(
        WITHIN,
        RetentionPolicy(within=timedelta(days=2, minutes=1)),
        ["newest", "after-cutoff", "at-cutoff"],
        id="keep-within 2d 1min",
    ),
    pytest.param(
        WITHIN,
        RetentionPolicy(within=timedelta(days=999_999_999)),
        ["newest", "after-cutoff", "at-cutoff", "before-cutoff", "old"],
        id="keep-within longer than history",
    ),
    pytest.param(
        TAGGED,
        RetentionPolicy(tags=frozenset({"prod", "pin"})),
        ["t3", "t1"],
        id="keep-tag is case sensitive and matches any tag",
    ),
    pytest.param(
        TEN_HOURLY[:3],
        RetentionPolicy(last=5),
        ["s2", "s1", "s0"],
        id="fewer snapshots than keep-last",
    ),
    pytest.param(
        snaps(("a", "2024-01-01 00:00"), ("b", "2024-01-03 00:00"), ("c", "2024-01-05 00:00")),
        RetentionPolicy(daily=7, weekly=4, monthly=12),
        ["c", "b", "a"],
        id="fewer days than daily, weekly and monthly",
    ),
    pytest.param(
        [],
        RetentionPolicy(last=1),
        [],
        id="no snapshots",
    ),
]


@pytest.mark.parametrize(("snapshots", "policy", "kept"), CASES)
def test_apply_retention(snapshots: list[Snap], policy: RetentionPolicy, kept: list[str]) -> None:
    decision = apply_retention(snapshots, policy)

    assert decision.keep_ids == kept
    assert ids(decision.keep) == kept
    assert decision.remove_ids == [i for i in newest_first(snapshots) if i not in kept]
    assert list(decision.reasons) == kept


def test_reasons_for_daily_with_oldest() -> None:
    decision = apply_retention(THREE_A_DAY[:6], RetentionPolicy(daily=7))

    assert decision.reasons == {
        "d02-18": ["daily snapshot"],
        "d01-18": ["daily snapshot"],
        "d01-06": ["oldest daily snapshot"],
    }
    assert decision.remove_ids == ["d02-12", "d02-06", "d01-12"]


def test_combined_rules_and_reasons() -> None:
    history = [
        Snap("mon", at("2024-04-01 10:00")),  # 2024-W14
        Snap("tue", at("2024-04-02 10:00"), ("pre-upgrade",)),
        Snap("wed-a", at("2024-04-03 09:00")),
        Snap("wed-b", at("2024-04-03 21:00")),
        Snap("thu", at("2024-04-04 10:00")),
        Snap("sun", at("2024-04-07 10:00")),
        Snap("mon2", at("2024-04-08 10:00")),  # 2024-W15
        Snap("tue2-a", at("2024-04-09 08:00")),
        Snap("tue2-b", at("2024-04-09 20:00")),
    ]
    policy = RetentionPolicy(
        last=2,
        daily=3,
        weekly=2,
        within=timedelta(hours=13),
        tags=frozenset({"pre-upgrade"}),
    )

    decision = apply_retention(history, policy)

    assert decision.keep_ids == ["tue2-b", "tue2-a", "mon2", "sun", "tue"]
    assert decision.remove_ids == ["thu", "wed-b", "wed-a", "mon"]
    assert decision.reasons == {
        "tue2-b": ["last snapshot", "daily snapshot", "weekly snapshot", "within 13h"],
        "tue2-a": ["last snapshot", "within 13h"],
        "mon2": ["daily snapshot"],
        "sun": ["daily snapshot", "weekly snapshot"],
        "tue": ["tag pre-upgrade"],
    }


def test_reasons_for_tags_are_sorted() -> None:
    decision = apply_retention(TAGGED, RetentionPolicy(last=1, tags=frozenset({"prod", "pin"})))

    assert decision.keep_ids == ["t5", "t3", "t1"]
    assert decision.remove_ids == ["t4", "t2"]
    assert decision.reasons == {
        "t5": ["last snapshot"],
        "t3": ["tag pin", "tag prod"],
        "t1": ["tag prod"],
    }


def test_buckets_use_utc_not_the_snapshot_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    history = [
        Snap("jan1-evening", at("2024-01-01 20:00")),
        # 00:30 on 2 January at UTC+2 is 22:30 on 1 January in UTC.
        Snap("jan2-local", datetime(2024, 1, 2, 0, 30, tzinfo=plus_two)),
        Snap("jan2", at("2024-01-02 01:00")),
    ]

    decision = apply_retention(history, RetentionPolicy(daily=2))

    assert decision.keep_ids == ["jan2", "jan2-local"]
    assert decision.remove_ids == ["jan1-evening"]


def test_order_across_zones_is_by_instant() -> None:
    minus_five = timezone(timedelta(hours=-5))
    history = [
        Snap("utc-late", at("2024-01-01 12:00")),
        # 09:00 at UTC-5 is 14:00 UTC: the newer snapshot.
        Snap("ny-early", datetime(2024, 1, 1, 9, 0, tzinfo=minus_five)),
    ]

    decision = apply_retention(history, RetentionPolicy(last=1))

    assert decision.keep_ids == ["ny-early"]
    assert decision.remove_ids == ["utc-late"]


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        pytest.param(RetentionPolicy(last=1), ["c"], id="last 1"),
        pytest.param(RetentionPolicy(last=2), ["c", "b"], id="last 2"),
        pytest.param(RetentionPolicy(hourly=1), ["c"], id="hourly 1"),
        pytest.param(RetentionPolicy(daily=1), ["c"], id="daily 1"),
        pytest.param(RetentionPolicy(daily=2), ["c", "a"], id="daily 2 keeps the oldest too"),
    ],
)
def test_equal_timestamps_are_deterministic(policy: RetentionPolicy, kept: list[str]) -> None:
    same = at("2024-06-01 12:00")
    base = [Snap("b", same), Snap("a", same), Snap("c", same)]

    for order in itertools.permutations(base):
        decision = apply_retention(list(order), policy)
        assert decision.keep_ids == kept
        assert decision.remove_ids == [i for i in ["c", "b", "a"] if i not in kept]


def test_input_is_not_changed() -> None:
    history = list(reversed(TEN_HOURLY))
    before = list(history)

    apply_retention(history, RetentionPolicy(last=3))

    assert history == before


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize("snapshots", [[], TEN_HOURLY], ids=["no snapshots", "ten snapshots"])
def test_empty_policy_is_refused(snapshots: list[Snap]) -> None:
    policy = RetentionPolicy()
    assert policy.is_empty()

    with pytest.raises(UsageError, match="empty retention policy") as caught:
        apply_retention(snapshots, policy)

    assert caught.value.hint
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "policy",
    [
        RetentionPolicy(last=1),
        RetentionPolicy(yearly=UNLIMITED),
        RetentionPolicy(within=timedelta(hours=1)),
        RetentionPolicy(tags=frozenset({"x"})),
    ],
)
def test_policy_with_one_rule_is_not_empty(policy: RetentionPolicy) -> None:
    assert not policy.is_empty()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: RetentionPolicy(last=-2), id="count below -1"),
        pytest.param(lambda: RetentionPolicy(daily=1.5), id="count not int"),  # type: ignore[arg-type]
        pytest.param(lambda: RetentionPolicy(weekly=True), id="count bool"),
        pytest.param(lambda: RetentionPolicy(within=timedelta(0)), id="within zero"),
        pytest.param(lambda: RetentionPolicy(within=timedelta(hours=-1)), id="within negative"),
        pytest.param(lambda: RetentionPolicy(tags=frozenset({""})), id="empty tag"),
        pytest.param(lambda: RetentionPolicy(tags="prod"), id="tags as string"),  # type: ignore[arg-type]
    ],
)
def test_invalid_policy_is_refused(make: Callable[[], object]) -> None:
    with pytest.raises(UsageError) as caught:
        make()
    assert caught.value.hint


def test_tags_are_frozen() -> None:
    policy = RetentionPolicy(tags={"a", "b"})  # type: ignore[arg-type]
    assert policy.tags == frozenset({"a", "b"})
    assert isinstance(policy.tags, frozenset)


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        apply_retention([Snap("n", datetime(2024, 1, 1))], RetentionPolicy(last=1))


def test_duplicate_id_is_rejected() -> None:
    history = [Snap("x", at("2024-01-01 00:00")), Snap("x", at("2024-01-02 00:00"))]
    with pytest.raises(ValueError, match="more than once"):
        apply_retention(history, RetentionPolicy(last=1))


# ------------------------------------------------------------------------ describe


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (RetentionPolicy(), "keep nothing (empty policy)"),
        (RetentionPolicy(last=3), "keep 3 latest snapshots"),
        (
            RetentionPolicy(last=3, daily=7, weekly=4, monthly=UNLIMITED),
            "keep 3 latest, 7 daily, 4 weekly, all monthly snapshots",
        ),
        (
            RetentionPolicy(within=parse_duration("2d3h")),
            "keep all snapshots within 2d3h of the newest",
        ),
        (
            RetentionPolicy(hourly=24, within=timedelta(days=400), tags=frozenset({"b", "a"})),
            "keep 24 hourly snapshots and all snapshots within 1y1m5d of the newest"
            " and all snapshots tagged 'a' or 'b'",
        ),
    ],
)
def test_describe(policy: RetentionPolicy, text: str) -> None:
    assert policy.describe() == text


# ------------------------------------------------------------------------ grouping


def test_group_snapshots_by_host_and_paths() -> None:
    t = at("2024-01-01 00:00")
    history = [
        Snap("a", t, host="db1", paths=("/srv",)),
        Snap("b", t, host="db2", paths=("/srv",)),
        Snap("c", t, host="db1", paths=("/etc",)),
        Snap("d", t, host="db1", paths=("/srv",)),
    ]

    groups = group_snapshots(history, lambda s: (s.host, s.paths))

    assert list(groups) == [("db1", ("/srv",)), ("db2", ("/srv",)), ("db1", ("/etc",))]
    assert {key: ids(members) for key, members in groups.items()} == {
        ("db1", ("/srv",)): ["a", "d"],
        ("db2", ("/srv",)): ["b"],
        ("db1", ("/etc",)): ["c"],
    }


def test_policy_applies_per_group() -> None:
    history = [
        Snap("db1-old", at("2024-01-01 00:00"), host="db1"),
        Snap("db2-only", at("2024-01-01 06:00"), host="db2"),
        Snap("db1-new", at("2024-01-02 00:00"), host="db1"),
    ]

    kept = {
        host: apply_retention(members, RetentionPolicy(last=1)).keep_ids
        for host, members in group_snapshots(history, lambda s: s.host).items()
    }

    assert kept == {"db1": ["db1-new"], "db2": ["db2-only"]}


# ------------------------------------------------------------------------ durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d3h", timedelta(days=2, hours=3)),
        ("1y2m3d4h", timedelta(days=365 + 60 + 3, hours=4)),
        ("1y", timedelta(days=365)),
        ("1m", timedelta(days=30)),
        ("48h", timedelta(hours=48)),
        ("7d", timedelta(days=7)),
        ("1y12h", timedelta(days=365, hours=12)),
        ("0d", timedelta(0)),
        ("007d", timedelta(days=7)),
        (" 7d\n", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "3",
        "d",
        "2x",
        "2D",
        "1w",
        "3h2d",
        "2d2d",
        "-1d",
        "+1d",
        "1.5d",
        "2 d",
        "2d 3h",
        "\u0661d",  # ARABIC-INDIC DIGIT ONE
        "9999999999y",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration(text)
    assert caught.value.hint


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=2, hours=3), "2d3h"),
        (timedelta(days=365 + 60 + 3, hours=4), "1y2m3d4h"),
        (timedelta(days=400), "1y1m5d"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=90), "1:30:00"),
        (timedelta(0), "0:00:00"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@given(st.integers(min_value=1, max_value=10_000_000))
def test_format_duration_round_trips(hours: int) -> None:
    value = timedelta(hours=hours)
    assert parse_duration(format_duration(value)) == value


# ------------------------------------------------------------------------ properties

_times = st.datetimes(
    min_value=datetime(2019, 1, 1),
    max_value=datetime(2026, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min]),
)
_histories = st.lists(
    st.tuples(_times, st.lists(st.sampled_from(["a", "b", "c"]), max_size=2)),
    max_size=40,
).map(lambda rows: [Snap(f"s{i:02d}", t, tuple(tags)) for i, (t, tags) in enumerate(rows)])
_counts = st.integers(min_value=-1, max_value=5)
_policies = st.builds(
    RetentionPolicy,
    last=_counts,
    hourly=_counts,
    daily=_counts,
    weekly=_counts,
    monthly=_counts,
    yearly=_counts,
    within=st.none() | st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(days=900)),
    tags=st.frozensets(st.sampled_from(["a", "b"]), max_size=1),
).filter(lambda policy: not policy.is_empty())


@settings(max_examples=300, deadline=None)
@given(_histories, _policies, st.randoms(use_true_random=False))
def test_properties(history: list[Snap], policy: RetentionPolicy, rnd: random.Random) -> None:
    decision = apply_retention(history, policy)

    # keep and remove partition the input, newest first; only kept ids have reasons.
    assert sorted(decision.keep_ids + decision.remove_ids) == sorted(ids(history))
    order = newest_first(history)
    assert decision.keep_ids == [i for i in order if i in set(decision.keep_ids)]
    assert decision.remove_ids == [i for i in order if i in set(decision.remove_ids)]
    assert list(decision.reasons) == decision.keep_ids
    assert all(decision.reasons.values())

    # keep-last N keeps at least the N newest.
    if policy.last > 0:
        assert set(order[: policy.last]) <= set(decision.keep_ids)

    # The input order does not matter.
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert apply_retention(shuffled, policy) == decision

    # Applying the policy again to what it kept keeps all of it.
    again = apply_retention(decision.keep, policy)
    assert again.keep_ids == decision.keep_ids
    assert again.remove_ids == []
