"""The one-time secrets store and the snapshot breadcrumbs: pure logic, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drkit.web.flash import KEEP, OneTime
from drkit.web.snapshot_pages import Crumb, crumbs

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_value_is_taken_once_by_its_session_only() -> None:
    held: OneTime[str] = OneTime()
    key = held.put("session-a", "secret", T0)
    assert held.take("session-b", key, T0) is None  # another session: nothing
    assert held.take("session-a", "another-key", T0) is None
    assert held.take("session-a", key, T0) == "secret"
    assert held.take("session-a", key, T0) is None  # once


def test_a_value_not_taken_in_time_is_dropped() -> None:
    held: OneTime[str] = OneTime()
    late = held.put("s", "old", T0)
    fresh = held.put("s", "new", T0 + KEEP)
    assert held.take("s", late, T0 + KEEP + timedelta(seconds=1)) is None
    assert held.take("s", fresh, T0 + KEEP + timedelta(seconds=1)) == "new"


def test_each_put_gets_its_own_key() -> None:
    held: OneTime[int] = OneTime()
    keys = {held.put("s", i, T0) for i in range(50)}
    assert len(keys) == 50


def test_breadcrumbs_link_every_directory_above() -> None:
    assert crumbs("") == [Crumb("/", "/")]
    assert crumbs("/srv/app/data") == [
        Crumb("/", "/"),
        Crumb("srv", "/srv"),
        Crumb("app", "/srv/app"),
        Crumb("data", "/srv/app/data"),
    ]
    assert crumbs("//srv//app/") == [
        Crumb("/", "/"),
        Crumb("srv", "/srv"),
        Crumb("app", "/srv/app"),
    ]
