"""Which snapshot a restore test restores: the latest, a random one from a window, or a given one.

A pure choice over a snapshot list, optionally narrowed to snapshots with
all of some tags and holding a path. Testing a random snapshot from, say,
the last week catches damage to data that only older snapshots still use.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from drkit.errors import SnapshotNotFound
from drkit.policy.membership import covers
from drkit.policy.objectives import format_objective
from drkit.repository.snapshot import Snapshot, find_snapshot


@dataclass(frozen=True)
class SnapshotChoice:
    """``snapshot`` (id prefix or ``latest``) wins; else ``window`` picks at random; else latest."""

    snapshot: str | None = None
    window: timedelta | None = None
    tags: tuple[str, ...] = ()
    path: str | None = None  # the snapshot must hold this path (backed up it or a folder above)

    def pick(
        self, snapshots: Sequence[Snapshot], now: datetime, rng: random.Random | None = None
    ) -> Snapshot:
        candidates = [s for s in snapshots if self._matches(s)]
        if self.snapshot is not None and self.snapshot != "latest":
            return find_snapshot(candidates, self.snapshot)
        if not candidates:
            raise SnapshotNotFound(f"the repository has no snapshot{self._filters()}")
        if self.snapshot is None and self.window is not None:
            return self._random(candidates, now, self.window, rng or random.SystemRandom())
        return max(candidates, key=lambda s: (s.time, s.id))

    def describe(self) -> str:
        if self.snapshot is not None:
            return self.snapshot
        if self.window is not None:
            return f"random from the last {format_objective(self.window)}"
        return "latest"

    def _matches(self, s: Snapshot) -> bool:
        if not all(t in s.tags for t in self.tags):
            return False
        return self.path is None or covers(s, self.path)

    def _random(
        self, candidates: list[Snapshot], now: datetime, window: timedelta, rng: random.Random
    ) -> Snapshot:
        recent = sorted((s for s in candidates if s.time >= now - window), key=lambda s: s.id)
        if not recent:
            newest = max(s.time for s in candidates)
            raise SnapshotNotFound(
                f"no snapshot{self._filters()} in the last {format_objective(window)} "
                f"(the newest is from {newest:%Y-%m-%d %H:%M %Z})",
                hint="back up first, or widen the restore test's window",
            )
        return rng.choice(recent)

    def _filters(self) -> str:
        parts = [f"tag {t}" for t in self.tags]
        if self.path is not None:
            parts.append(f"path {self.path}")
        return f" with {' and '.join(parts)}" if parts else ""
