"""Snapshot retention: which snapshots a ``forget`` keeps, decided by a pure function.

The rules follow restic's ``forget`` policy:

* ``last=N`` keeps the N newest snapshots.
* ``hourly``/``daily``/``weekly``/``monthly``/``yearly=N`` keep, for each of the last N
  hours/days/weeks/months/years *that have snapshots*, the newest snapshot in it.
  Weeks are ISO 8601 weeks (Monday to Sunday, numbered within the ISO year, so
  2021-01-03 belongs to week 53 of 2020).  If a counted rule still has count left when
  it reaches the oldest snapshot, that snapshot is kept as well even when its bucket
  already has a kept snapshot (restic >= 0.17 does the same: a history shorter than
  the policy keeps its oldest point).  ``N = -1`` (:data:`UNLIMITED`) means no limit.
* ``within=DURATION`` keeps every snapshot strictly newer than the newest snapshot
  minus DURATION (relative to the newest snapshot, not to the clock).
* ``tags`` keeps every snapshot that carries at least one of the tags.

A snapshot kept by any rule is kept; each rule counts over all snapshots on its own,
so one snapshot may satisfy several rules at once.  The reasons are recorded per kept
snapshot.  A policy without any rule is refused, because it would remove everything.

**Time zones.** Snapshot times must be timezone-aware.  Every time is converted to
UTC before it is put into an hour/day/week/month/year bucket, so a snapshot taken at
00:30 on 2 January in UTC+2 counts for 1 January.  The result therefore does not
depend on the time zone of the machine that runs ``forget``.

**Determinism.** Snapshots are ordered newest first by ``(time, id)``: of two
snapshots with the same instant, the one with the greater id counts as the newer one.
The decision does not depend on the order of the input.

The policy is applied to one group of snapshots at a time; :func:`group_snapshots`
splits a list into groups (e.g. by host and paths) first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from drkit.errors import UsageError

__all__ = [
    "UNLIMITED",
    "Dated",
    "RetentionDecision",
    "RetentionPolicy",
    "apply_retention",
    "format_duration",
    "group_snapshots",
    "parse_duration",
]

UNLIMITED = -1
"""A count that keeps every bucket (restic's ``unlimited``)."""

_HOUR = timedelta(hours=1)
_DURATION_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 24),
    ("m", 30 * 24),
    ("d", 24),
    ("h", 1),
)
_DURATION_RE = re.compile(r"(?:([0-9]+)y)?(?:([0-9]+)m)?(?:([0-9]+)d)?(?:([0-9]+)h)?")
_DURATION_HINT = (
    "write a number followed by a unit, units in the order y, m, d, h, each at most once, "
    "e.g. 7d, 12h or 1y2m3d4h (y = 365 days, m = 30 days)"
)


class Dated(Protocol):
    """What the retention rules need to know about a snapshot."""

    @property
    def id(self) -> str: ...

    @property
    def time(self) -> datetime: ...

    @property
    def tags(self) -> Sequence[str]: ...


T = TypeVar("T", bound=Dated)
V = TypeVar("V")
K = TypeVar("K", bound=Hashable)

Bucketer = Callable[[datetime], Hashable]


# --------------------------------------------------------------------------- durations


def parse_duration(text: str) -> timedelta:
    """Parse a restic-style duration such as ``2d3h`` or ``1y2m3d4h``.

    Units are ``y`` (365 days), ``m`` (30 days), ``d`` (days) and ``h`` (hours), in
    that order, each at most once.  Surrounding whitespace is ignored.  Raises
    :class:`~drkit.errors.UsageError` for anything else.
    """
    stripped = text.strip()
    match = _DURATION_RE.fullmatch(stripped)
    if not stripped or match is None:
        raise UsageError(f"invalid duration {text!r}", hint=_DURATION_HINT)
    hours = 0
    for (_, size), number in zip(_DURATION_UNITS, match.groups(), strict=True):
        if number is not None:
            hours += int(number) * size
    try:
        return timedelta(hours=hours)
    except OverflowError:
        raise UsageError(f"duration {text!r} is too long", hint=_DURATION_HINT) from None


def format_duration(value: timedelta) -> str:
    """Write *value* the way :func:`parse_duration` reads it (``400 days`` -> ``1y1m5d``).

    Durations that are not a positive whole number of hours fall back to ``str()``.
    """
    if value <= timedelta(0) or value % _HOUR:
        return str(value)
    hours = value // _HOUR
    parts: list[str] = []
    for unit, size in _DURATION_UNITS:
        number, hours = divmod(hours, size)
        if number:
            parts.append(f"{number}{unit}")
    return "".join(parts)


# ------------------------------------------------------------------------------ policy


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < UNLIMITED:
        raise UsageError(
            f"keep-{name} must be a whole number of at least -1, not {value!r}",
            hint="use a positive number, 0 to turn the rule off, or -1 to keep without limit",
        )


@dataclass(frozen=True)
class RetentionPolicy:
    """Which snapshots to keep; see the module docstring for the meaning of each rule.

    Counts are ``0`` (rule off), a positive number, or :data:`UNLIMITED` (``-1``).
    """

    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: timedelta | None = None
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name, count in self.counts():
            _check_count(name, count)
        if self.within is not None and (
            not isinstance(self.within, timedelta) or self.within <= timedelta(0)
        ):
            raise UsageError(
                f"keep-within must be a positive duration, not {self.within!r}",
                hint="leave keep-within unset to turn the rule off, or give e.g. 7d",
            )
        if isinstance(self.tags, str):
            raise UsageError(
                f"keep-tag must be a set of tags, not the string {self.tags!r}",
                hint="pass one tag per keep-tag option",
            )
        object.__setattr__(self, "tags", frozenset(self.tags))
        if any(not isinstance(tag, str) or not tag for tag in self.tags):
            raise UsageError("keep-tag needs non-empty tag names", hint="remove the empty tag")

    def counts(self) -> tuple[tuple[str, int], ...]:
        """The counted rules in order, as ``(name, count)`` pairs."""
        return (
            ("last", self.last),
            ("hourly", self.hourly),
            ("daily", self.daily),
            ("weekly", self.weekly),
            ("monthly", self.monthly),
            ("yearly", self.yearly),
        )

    def is_empty(self) -> bool:
        """True if no rule is set; such a policy would remove every snapshot."""
        return all(count == 0 for _, count in self.counts()) and (
            self.within is None and not self.tags
        )

    def describe(self) -> str:
        """One line for people, e.g. ``keep 3 latest, 7 daily snapshots, ...``."""
        if self.is_empty():
            return "keep nothing (empty policy)"
        parts: list[str] = []
        counted = [_describe_count(name, count) for name, count in self.counts() if count]
        if counted:
            parts.append(", ".join(counted) + " snapshots")
        if self.within is not None:
            parts.append(f"all snapshots within {format_duration(self.within)} of the newest")
        if self.tags:
            names = " or ".join(repr(tag) for tag in sorted(self.tags))
            parts.append(f"all snapshots tagged {names}")
        return "keep " + " and ".join(parts)


def _describe_count(name: str, count: int) -> str:
    label = "latest" if name == "last" else name
    return f"all {label}" if count == UNLIMITED else f"{count} {label}"


# ----------------------------------------------------------------------------- buckets


def _hour_bucket(t: datetime) -> Hashable:
    return (t.year, t.month, t.day, t.hour)


def _day_bucket(t: datetime) -> Hashable:
    return (t.year, t.month, t.day)


def _week_bucket(t: datetime) -> Hashable:
    iso = t.isocalendar()
    return (iso.year, iso.week)


def _month_bucket(t: datetime) -> Hashable:
    return (t.year, t.month)


def _year_bucket(t: datetime) -> Hashable:
    return t.year


_BUCKETERS: dict[str, Bucketer] = {
    "hourly": _hour_bucket,
    "daily": _day_bucket,
    "weekly": _week_bucket,
    "monthly": _month_bucket,
    "yearly": _year_bucket,
}


# ---------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class RetentionDecision(Generic[T]):
    """The outcome of :func:`apply_retention`.

    ``keep`` and ``remove`` are newest first and together hold every snapshot once.
    ``reasons`` maps the id of every kept snapshot (and only those) to why it is
    kept, in rule order, e.g. ``["last snapshot", "daily snapshot", "tag prod"]``.
    """

    keep: list[T]
    remove: list[T]
    reasons: dict[str, list[str]]

    @property
    def keep_ids(self) -> list[str]:
        """Ids of the kept snapshots, newest first."""
        return [snapshot.id for snapshot in self.keep]

    @property
    def remove_ids(self) -> list[str]:
        """Ids of the snapshots to remove, newest first."""
        return [snapshot.id for snapshot in self.remove]


def _utc_time(snapshot: Dated) -> datetime:
    time = snapshot.time
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError(f"snapshot {snapshot.id} has a naive time {time.isoformat()}")
    return time.astimezone(UTC)


def _newest_first(snapshots: Iterable[T]) -> list[tuple[T, datetime]]:
    """Pair each snapshot with its UTC time, newest first, ties broken by id."""
    pairs: list[tuple[T, datetime]] = []
    seen: set[str] = set()
    for snapshot in snapshots:
        if snapshot.id in seen:
            raise ValueError(f"snapshot id {snapshot.id} occurs more than once")
        seen.add(snapshot.id)
        pairs.append((snapshot, _utc_time(snapshot)))
    pairs.sort(key=lambda pair: (pair[1], pair[0].id), reverse=True)
    return pairs


def _counted_rule(
    ordered: Sequence[tuple[T, datetime]], name: str, count: int
) -> list[tuple[str, str]]:
    """Apply one counted rule; return ``(id, reason)`` for the snapshots it keeps."""
    bucketer = _BUCKETERS.get(name)
    noun = f"{name} snapshot"
    kept: list[tuple[str, str]] = []
    remaining = count
    previous: Hashable = None
    for index, (snapshot, time) in enumerate(ordered):
        if remaining == 0:
            break
        bucket = index if bucketer is None else bucketer(time)
        if index > 0 and bucket == previous:
            if index < len(ordered) - 1:
                continue
            kept.append((snapshot.id, f"oldest {noun}"))
        else:
            kept.append((snapshot.id, noun))
        previous = bucket
        if remaining > 0:
            remaining -= 1
    return kept


def _within_rule(ordered: Sequence[tuple[T, datetime]], within: timedelta) -> list[str]:
    """Ids of the snapshots strictly newer than the newest one minus *within*."""
    if not ordered:
        return []
    try:
        cutoff = ordered[0][1] - within
    except OverflowError:
        return [snapshot.id for snapshot, _ in ordered]
    return [snapshot.id for snapshot, time in ordered if time > cutoff]


def _empty_policy_error() -> UsageError:
    return UsageError(
        "refusing to apply an empty retention policy: it would remove every snapshot",
        hint=(
            "set at least one keep rule (last, hourly, daily, weekly, monthly, yearly, "
            "within or tag), e.g. keep-last 1; to remove given snapshots, name them by id"
        ),
    )


def apply_retention(snapshots: Sequence[T], policy: RetentionPolicy) -> RetentionDecision[T]:
    """Decide which of *snapshots* (one group) *policy* keeps and which it removes.

    Pure and deterministic: the input is not changed and its order does not matter.
    Raises :class:`~drkit.errors.UsageError` for an empty policy (even with no
    snapshots), and ``ValueError`` for a naive snapshot time or a repeated id.
    """
    if policy.is_empty():
        raise _empty_policy_error()
    ordered = _newest_first(snapshots)
    reasons: dict[str, list[str]] = {}
    for name, count in policy.counts():
        if count:
            for snapshot_id, reason in _counted_rule(ordered, name, count):
                reasons.setdefault(snapshot_id, []).append(reason)
    if policy.within is not None:
        reason = f"within {format_duration(policy.within)}"
        for snapshot_id in _within_rule(ordered, policy.within):
            reasons.setdefault(snapshot_id, []).append(reason)
    for snapshot, _ in ordered:
        for tag in sorted(policy.tags.intersection(snapshot.tags)):
            reasons.setdefault(snapshot.id, []).append(f"tag {tag}")
    keep = [snapshot for snapshot, _ in ordered if snapshot.id in reasons]
    remove = [snapshot for snapshot, _ in ordered if snapshot.id not in reasons]
    return RetentionDecision(
        keep=keep,
        remove=remove,
        reasons={snapshot.id: reasons[snapshot.id] for snapshot in keep},
    )


def group_snapshots(snapshots: Iterable[V], key: Callable[[V], K]) -> dict[K, list[V]]:
    """Split *snapshots* into groups by ``key(snapshot)``, e.g. ``(host, paths)``.

    Groups appear in the order their first member appears; each group keeps the input
    order.  The key must be hashable, so use tuples rather than lists for paths.
    """
    groups: dict[K, list[V]] = {}
    for snapshot in snapshots:
        groups.setdefault(key(snapshot), []).append(snapshot)
    return groups
