"""A :class:`~drkit.verify.subset.PackCheckLedger` kept in memory: for tests and one-off runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from drkit.verify.subset import PackCheckResult


class MemoryPackCheckLedger:
    """Last good reads per repository id, in a dict; a damaged pack keeps its earlier time."""

    def __init__(self) -> None:
        self._reads: dict[str, dict[str, datetime]] = {}
        self.runs: list[tuple[str, tuple[PackCheckResult, ...]]] = []  # every record() call

    def last_checked(self, repository_id: str) -> Mapping[str, datetime]:
        return dict(self._reads.get(repository_id, {}))

    def record(self, repository_id: str, results: Sequence[PackCheckResult]) -> None:
        reads = self._reads.setdefault(repository_id, {})
        for result in results:
            if result.ok:
                reads[result.name] = max(
                    result.checked_at, reads.get(result.name, result.checked_at)
                )
        self.runs.append((repository_id, tuple(results)))
