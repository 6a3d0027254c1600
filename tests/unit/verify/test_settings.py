"""VerificationSettings: defaults, durations, cron expressions, validation commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from drkit.settings.verification import (
    VerificationSettings,
    cron_interval,
    verification_of,
)


def test_defaults() -> None:
    v = VerificationSettings()
    assert v.check == "0 4 * * *" and v.read_data == "0 5 * * 0"
    assert v.read_subset.schedule is None and v.read_subset.period == timedelta(days=30)
    assert v.read_subset.by == "bytes"
    assert v.restore_test.schedule is None and v.restore_test.window is None
    assert v.restore_test.validation_commands == [] and v.restore_test.timeout == timedelta(hours=1)


def test_a_full_section() -> None:
    v = VerificationSettings.model_validate(
        {
            "check": None,
            "read_subset": {"schedule": "0 3 * * *", "period": "2w", "by": "count"},
            "read_data": None,
            "restore_test": {
                "schedule": "0 6 * * 6",
                "window": "7d",
                "scratch": "~/scratch",
                "validate": [["sqlite3", "{dir}/db", "select 1"], "sh -c 'test -d {dir}'"],
                "timeout": "15m",
            },
        }
    )
    assert v.check is None and v.read_data is None
    assert v.read_subset.period == timedelta(weeks=2)
    assert v.read_subset.interval(datetime(2025, 1, 1, tzinfo=UTC)) == timedelta(days=1)
    rt = v.restore_test
    assert rt.window == timedelta(days=7) and rt.timeout == timedelta(minutes=15)
    assert rt.scratch == Path("~/scratch").expanduser()
    assert rt.validation_commands == [
        ["sqlite3", "{dir}/db", "select 1"],
        ["sh", "-c", "test -d {dir}"],
    ]


@pytest.mark.parametrize(
    ("doc", "where", "words"),
    [
        ({"check": "every day"}, ("check",), "not a cron expression"),
        ({"read_subset": {"period": "soon"}}, ("read_subset", "period"), "not a duration"),
        ({"read_subset": {"by": "files"}}, ("read_subset", "by"), "bytes"),
        ({"restore_test": {"validate": [[]]}}, ("restore_test", "validate", 0), "at least 1"),
        ({"restore_test": {"validate": ["sh -c 'x"]}}, ("restore_test", "validate", 0), "split"),
        ({"restore_test": {"timeout": "0s"}}, ("restore_test", "timeout"), "zero"),
        ({"restore_test": {"retries": 3}}, ("restore_test", "retries"), "Extra inputs"),
    ],
)
def test_errors_name_the_key(doc: dict[str, object], where: tuple[object, ...], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        VerificationSettings.model_validate(doc)
    [error] = info.value.errors()
    assert error["loc"] == where
    assert words in error["msg"]


def test_cron_interval_of_a_weekly_schedule() -> None:
    assert cron_interval("0 5 * * 0", datetime(2025, 3, 4, tzinfo=UTC)) == timedelta(weeks=1)


def test_verification_of_a_policy_without_the_section_gives_defaults() -> None:
    assert verification_of(SimpleNamespace()) == VerificationSettings()
    custom = VerificationSettings(check=None)
    assert verification_of(SimpleNamespace(verification=custom)) is custom
