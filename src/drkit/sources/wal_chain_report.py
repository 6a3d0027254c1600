"""The chain check's findings as sentences and as JSON (what ``check --chain`` prints).

Each finding is a :class:`Finding` with a severity, so the CLI only colours
and prints; the same sentences serve logs and alerts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from drkit.sources.wal_chain import BackupChain, ChainStatus, UnreachableRange
from drkit.sources.wal_inventory import ChainCheckResult
from drkit.sources.wal_names import format_lsn


@dataclass(frozen=True)
class Finding:
    severity: str  # error, warning, ok
    text: str


def _when(value: datetime | None, exact: bool = True) -> str:
    if value is None:
        return "an unknown time"
    if exact:
        return f"last commit {value:%Y-%m-%d %H:%M:%S.%f %Z}".rstrip()
    return f"archived about {value:%Y-%m-%d %H:%M:%S %Z}, an estimate".rstrip()


def backup_finding(chain: BackupChain, damaged: frozenset[str] = frozenset()) -> Finding:
    head = f"base backup {chain.backup_id[:8]} (cluster {chain.system_id})"
    state = "damaged" if f"{chain.system_id}-{chain.first_missing}" in damaged else "missing"
    if chain.status is ChainStatus.BROKEN:
        return Finding(
            "error",
            f"{head} cannot be restored: WAL segment {chain.first_missing}, between its start "
            f"{chain.start_segment} and its end {chain.stop_segment}, is {state}",
        )
    if chain.status is ChainStatus.TRUNCATED:
        return Finding(
            "error",
            f"{head}: WAL segment {chain.first_missing} is {state}; it recovers only to targets "
            f"before LSN {format_lsn(chain.reachable_until_lsn)} "
            f"({_when(chain.reachable_until_time, chain.reachable_time_exact)})",
        )
    reach = _when(chain.reachable_until_time, chain.reachable_time_exact)
    return Finding(
        "ok",
        f"{head}: {chain.segments_checked} WAL segments from {chain.start_segment} on, "
        f"no gap (timelines {' -> '.join(map(str, chain.timelines))}); recovery to a time "
        f"reaches targets before the {reach}",
    )


def range_finding(gap: UnreachableRange) -> Finding:
    if gap.until_backup is None:
        until = "up to now: take a new base backup"
    else:
        ends = f" (at {gap.until_time:%Y-%m-%d %H:%M:%S %Z})" if gap.until_time else ""
        until = (
            f"until base backup {gap.until_backup[:8]} ends at LSN "
            f"{format_lsn(gap.until_lsn or 0)}{ends}"
        )
    since = _when(gap.from_time, gap.from_time_exact)
    return Finding(
        "error",
        f"recovery points of cluster {gap.system_id} on timeline {gap.timeline} from LSN "
        f"{format_lsn(gap.from_lsn)} (after the {since}) are unreachable {until}; "
        f"first missing or damaged segment {gap.first_missing}",
    )


def findings(result: ChainCheckResult) -> list[Finding]:
    """Everything worth saying, errors first within each group."""
    damaged = frozenset(result.damaged_wal)
    found = [backup_finding(c, damaged) for c in result.report.backups]
    found += [range_finding(g) for g in result.report.unreachable]
    found += [Finding(i.severity, i.message) for i in result.report.issues]
    found += [
        Finding("error", f"archived WAL object {name} is damaged: {why}")
        for name, why in sorted(result.damaged_wal.items())
    ]
    found += [
        Finding("error", f"snapshot {sid[:8]} claims to be a base backup but {why}")
        for sid, why in sorted(result.bad_backups.items())
    ]
    return found


def summary(result: ChainCheckResult) -> str:
    c = result.counts
    text = (
        f"chain: {c.backups} base backups, {c.wal_files} archived WAL files "
        f"({c.segments} segments, {c.histories} timeline histories)"
    )
    if c.wal_files_read:
        text += f", {c.wal_files_read} read and authenticated"
    return text


def chain_json(result: ChainCheckResult) -> dict[str, Any]:
    report = result.report
    return {
        "ok": result.ok,
        "backups": [
            {
                **asdict(c),
                "status": c.status.value,
                "reachable_until_lsn": format_lsn(c.reachable_until_lsn),
            }
            for c in report.backups
        ],
        "unreachable": [
            {
                **asdict(g),
                "from_lsn": format_lsn(g.from_lsn),
                "until_lsn": format_lsn(g.until_lsn) if g.until_lsn is not None else None,
            }
            for g in report.unreachable
        ],
        "first_missing": sorted(
            {c.first_missing for c in report.backups if c.first_missing is not None}
        ),
        "timeline_issues": [asdict(i) for i in report.issues],
        "damaged_wal": result.damaged_wal,
        "bad_backups": result.bad_backups,
        "counts": asdict(result.counts),
    }
