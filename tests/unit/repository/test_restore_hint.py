"""The hint after an incomplete restore follows why the paths failed."""

from __future__ import annotations

import errno
import os

import pytest

from drkit.cli.restore import failure_hint

FULL = os.strerror(errno.ENOSPC)


@pytest.mark.parametrize(
    ("reasons", "expected", "not_expected"),
    [
        ([FULL], "the restore target is full", "check --read-data"),
        (["blob x is damaged", FULL], "the restore target is full", "check --read-data"),
        (
            ["not in the snapshot (unreadable at backup: Permission denied)"],
            "could not be read when the backup ran",
            "check --read-data",
        ),
        (["blob abc in pack def is damaged"], "check --read-data", "full"),
        (
            ["directory listing missing, nothing under it: x", "not in the snapshot (y)"],
            "check --read-data",
            "full",
        ),
    ],
)
def test_failure_hint(reasons: list[str], expected: str, not_expected: str) -> None:
    hint = failure_hint(reasons)
    assert expected in hint and not_expected not in hint
