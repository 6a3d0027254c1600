"""Which versions retention removes: a pure function of the versions, the rules and now.

Per scope, a version is kept when it is among the newest ``keep_versions``
or younger than ``keep_within`` (either rule keeps it); the newest version
of every scope is always kept, because the next change is compared with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from drkit.confighistory.model import ConfigVersion, Scope
from drkit.settings.confighistory import HistoryRetention


def plan_retention(
    versions: Iterable[ConfigVersion], retention: HistoryRetention, now: datetime
) -> list[ConfigVersion]:
    """The versions to remove, oldest first."""
    if retention.keeps_everything:
        return []
    by_scope: dict[Scope, list[ConfigVersion]] = {}
    for version in versions:
        by_scope.setdefault(version.scope, []).append(version)
    doomed: list[ConfigVersion] = []
    for scoped in by_scope.values():
        scoped.sort(key=lambda v: (v.created_at, v.id), reverse=True)
        doomed += [v for i, v in enumerate(scoped) if i > 0 and not _kept(i, v, retention, now)]
    return sorted(doomed, key=lambda v: (v.created_at, v.id))


def _kept(rank: int, version: ConfigVersion, retention: HistoryRetention, now: datetime) -> bool:
    if retention.keep_versions is not None and rank < retention.keep_versions:
        return True
    return retention.keep_within is not None and now - version.created_at <= retention.keep_within
