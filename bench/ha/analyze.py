"""Per-trial figures from the write log, and the per-scenario table (pure functions)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bench.ha.writer import Attempt


def trial_figures(
    attempts: Sequence[Attempt],
    inject: float,
    promoted_at: float | None,
    old_host: str,
    new_host: str,
    final_rows: set[int],
) -> dict[str, Any]:
    """The anchor's figures for one trial (times in seconds after the injection)."""
    acked = [a for a in attempts if a.ok]
    before = [a for a in acked if a.end <= inject]
    after = [a for a in acked if a.start > inject]
    last_before = max((a.end for a in before), default=None)
    first_after = min((a.end for a in after), default=None)
    new_first = min((a.end for a in acked if a.server == new_host), default=None)
    old_after_new = (
        [a.seq for a in acked if a.server == old_host and a.end > new_first]
        if new_first is not None
        else []
    )
    acked_seqs = {a.seq for a in acked}
    return {
        "writes_acked": len(acked),
        "outage_s": None
        if first_after is None or last_before is None
        else round(first_after - last_before, 3),
        "first_write_s": None if first_after is None else round(first_after - inject, 3),
        "promotion_s": None if promoted_at is None else round(promoted_at - inject, 3),
        "failover": promoted_at is not None,
        "acked_lost": sorted(acked_seqs - final_rows),
        "old_primary_acks_after_new": old_after_new,
        "unacked_committed": len(final_rows - acked_seqs),
        "served_after": sorted({a.server or "" for a in after}),
    }


def _spread(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "n/a"
    text = f"{min(known):.1f} / {statistics.median(known):.1f} / {max(known):.1f}"
    missing = len(values) - len(known)
    return text + (f" ({missing} none)" if missing else "")


def table(trials: Sequence[dict[str, Any]]) -> str:
    """Markdown: one row per (scenario, system), min / median / max over the trials."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for t in trials:
        groups.setdefault((t["scenario"], t["system"]), []).append(t)
    lines = [
        "| scenario | system | trials | write outage s | first write after injection s "
        "| promotion s | acked writes lost | acked by old primary after new's first write "
        "| failovers |",
        "|---|---|---:|---|---|---|---:|---:|---:|",
    ]
    for (scenario, system), group in groups.items():
        lost = sum(len(t["acked_lost"]) for t in group)
        late = sum(len(t["old_primary_acks_after_new"]) for t in group)
        failovers = sum(1 for t in group if t["failover"])
        lines.append(
            f"| {scenario} | {system} | {len(group)} | {_spread([t['outage_s'] for t in group])} "
            f"| {_spread([t['first_write_s'] for t in group])} "
            f"| {_spread([t['promotion_s'] for t in group])} | {lost} | {late} "
            f"| {failovers} of {len(group)} |"
        )
    return "\n".join(lines) + "\n"
