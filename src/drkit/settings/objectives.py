"""Recovery objectives: RPO and RTO durations such as ``15m``, ``4h`` or ``1d12h``.

Units are s, m (minutes), h, d and w. (Retention's ``keep-within`` follows
restic instead, where ``m`` means months; objectives are measured in minutes
and hours, so here ``m`` is minutes.)
"""

from __future__ import annotations

import re
from datetime import timedelta

from drkit.errors import UsageError

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")


def parse_objective(text: str) -> timedelta:
    """``"1d12h"`` -> 36 hours. Units in descending order, each at most once."""
    compact = text.strip()
    parts = _PART.findall(compact)
    units = [unit for _, unit in parts]
    order = list(_UNITS)
    valid = (
        parts
        and "".join(n + u for n, u in parts) == compact
        and units == sorted(set(units), key=order.index)
    )
    if not valid:
        raise UsageError(
            f"{text!r} is not a duration",
            hint="write it like 30s, 15m, 4h, 1d12h or 2w (units w, d, h, m, s)",
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds == 0:
        raise UsageError(f"{text!r} is zero", hint="an objective must be longer than zero")
    return timedelta(seconds=seconds)


def format_objective(value: timedelta) -> str:
    """36 hours -> ``"1d12h"``; the inverse of :func:`parse_objective`."""
    left = int(value.total_seconds())
    out = []
    for unit, size in _UNITS.items():
        if left >= size:
            out.append(f"{left // size}{unit}")
            left %= size
    return "".join(out) or "0s"
