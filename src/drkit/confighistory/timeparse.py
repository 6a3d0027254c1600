"""Naming a version on the command line: by id, by time, or by a phrase.

* ``42`` or ``#42``: version 42;
* ``2024-05-01``, ``2024-05-01T14:30``, ``2024-05-01 14:30:00+02:00``: ISO 8601
  (without a zone: local time);
* ``now``, ``today`` (midnight), ``yesterday`` (this time yesterday),
  ``today 09:30``, ``yesterday 18:00``, ``2 hours ago``, ``3 days ago``,
  ``90min ago``, ``an hour ago``, ``last week``, ``last month``, ``last year``.

A time names the version in force at that time: the newest made at or
before it. Months are 30 days and years 365, as in ``drkit forget``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from drkit.confighistory.errors import BadReference

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "w": timedelta(weeks=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "y": timedelta(days=365),
    "year": timedelta(days=365),
}
_AGO = re.compile(r"^(?P<n>\d+|an?)\s*(?P<unit>[a-z]+?)s?\s+ago$")
_LAST = re.compile(r"^last\s+(?P<unit>[a-z]+)$")
_DAY = re.compile(r"^(?P<day>today|yesterday)(?:\s+(?P<h>\d{1,2}):(?P<m>\d{2}))?$")
_ID = re.compile(r"^#?(?P<id>\d+)$")


@dataclass(frozen=True)
class VersionRef:
    """A version named by id, or the version in force at a time."""

    text: str
    version_id: int | None = None
    at: datetime | None = None


def parse_ref(text: str, now: datetime | None = None) -> VersionRef:
    """Read an id, a timestamp or a phrase; BadReference if it is none of them."""
    cleaned = " ".join(text.strip().lower().split())
    found = _ID.match(cleaned)
    if found and not _looks_like_date(cleaned):
        return VersionRef(text, version_id=int(found.group("id")))
    return VersionRef(text, at=parse_time(text, now))


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An aware datetime for ``text`` (see the module docstring)."""
    now = (now or datetime.now(UTC)).astimezone()
    cleaned = " ".join(text.strip().lower().split())
    when = _phrase(cleaned, now)
    if when is None:
        when = _iso(text.strip())
    if when is None:
        raise BadReference(f"{text!r} is not a version id, a time or a phrase drkit knows")
    return when


def _phrase(text: str, now: datetime) -> datetime | None:
    if text == "now":
        return now
    if m := _DAY.match(text):
        today = m.group("day") == "today"
        base = now if today else now - timedelta(days=1)
        if m.group("h") is None:  # today: since midnight; yesterday: this time yesterday
            return base.replace(hour=0, minute=0, second=0, microsecond=0) if today else base
        hour, minute = int(m.group("h")), int(m.group("m"))
        if hour > 23 or minute > 59:
            return None
        return base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if m := _AGO.match(text):
        n = 1 if m.group("n") in ("a", "an") else int(m.group("n"))
        unit = _unit(m.group("unit"))
        return now - n * unit if unit is not None else None
    if m := _LAST.match(text):
        unit = _unit(m.group("unit"))
        return now - unit if unit is not None else None
    return None


def _unit(name: str) -> timedelta | None:
    return _UNITS.get(name) or _UNITS.get(name.rstrip("s"))


def _iso(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone() if when.tzinfo is None else when


def _looks_like_date(text: str) -> bool:
    return len(text) == 8 and text.isdigit()  # 20240501 is a date, not version 20 million
