"""Retention rules as drkit.yaml and `drkit forget` state them: the policy and its durations.

The decision over snapshots (which ones a rule keeps) is :mod:`drkit.policy.retention`;
see its docstring for the meaning of each rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from drkit.errors import UsageError

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
