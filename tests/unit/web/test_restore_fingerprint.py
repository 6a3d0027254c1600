"""The restore form's fingerprint: the same plan gives the same one, any change another."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from drkit.confighistory.diff import DiffLine, Hunk, LineKind, TextDiff
from drkit.confighistory.model import ConfigVersion, Scope
from drkit.confighistory.restore import ItemStatus, RestoreItem, RestorePlan
from drkit.web.config_pages import fingerprint

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)
VERSION = ConfigVersion(7, "uid", Scope.drkit(), "ada", AT, "m", "h" * 64, 10, None)


def _plan(text: str = "rpo: 1d", version: ConfigVersion = VERSION) -> RestorePlan:
    line = DiffLine(LineKind.ADDED, None, 1, text)
    diff = TextDiff("drkit (now)", "drkit #7", (Hunk(1, 0, 1, 1, (line,)),))
    return RestorePlan(AT, (RestoreItem(Scope.drkit(), ItemStatus.CHANGE, version, diff),))


def test_the_same_plan_has_the_same_fingerprint() -> None:
    assert fingerprint(_plan()) == fingerprint(_plan())


def test_a_different_diff_target_time_or_status_changes_it() -> None:
    base = fingerprint(_plan())
    assert fingerprint(_plan("rpo: 2d")) != base
    assert fingerprint(_plan(version=replace(VERSION, id=8))) != base
    assert fingerprint(replace(_plan(), at=AT.replace(hour=13))) != base
    unchanged = RestoreItem(Scope.drkit(), ItemStatus.UNCHANGED, VERSION, None)
    assert fingerprint(RestorePlan(AT, (unchanged,))) != base
