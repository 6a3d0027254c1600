"""RPO/RTO durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drkit.errors import UsageError
from drkit.policy.objectives import format_objective, parse_objective


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("1d12h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
        (" 1h30m ", timedelta(minutes=90)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_objective(text) == expected
    assert parse_objective(format_objective(expected)) == expected


@pytest.mark.parametrize("bad", ["", "4", "h", "4x", "30m4h", "1h1h", "0s", "-1h", "1.5h"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_objective(bad)
