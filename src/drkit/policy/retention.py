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

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from drkit.errors import UsageError
from drkit.settings.retention import UNLIMITED, RetentionPolicy, format_duration, parse_duration

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
