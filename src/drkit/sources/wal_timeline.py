"""Timelines: which WAL file recovery reads for each segment, and history consistency.

A timeline's history file lists its ancestors and where each one ended.
Recovery along a timeline reads, for every segment number, the file of the
newest timeline on the path that had already begun at that segment; this
is PostgreSQL's own rule (``XLogFileReadAnyTLI``): the segment holding a
switch point is read from the child, which copied the parent's WAL up to it.
Pure functions; ``wal_chain`` uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drkit.sources.wal_names import HistoryEntry, format_lsn, history_name, segment_of


@dataclass(frozen=True)
class TimelineSpan:
    """A stretch of a timeline path: ``timeline`` from ``begin_lsn`` until ``end_lsn``."""

    timeline: int
    begin_lsn: int
    end_lsn: int | None  # None: the timeline has not ended (the path's last span)


@dataclass(frozen=True)
class TimelineIssue:
    """Something wrong (``error``) or odd (``warning``) about the timeline histories."""

    severity: str
    name: str
    message: str


def timeline_path(target: int, histories: Mapping[int, list[HistoryEntry]]) -> list[TimelineSpan]:
    """The spans recovery follows to reach ``target``; a timeline without history stands alone."""
    spans, begin = [], 0
    for entry in histories.get(target, []):
        spans.append(TimelineSpan(entry.timeline, begin, entry.switch_lsn))
        begin = entry.switch_lsn
    spans.append(TimelineSpan(target, begin, None))
    return spans


def timeline_for_segment(segno: int, path: list[TimelineSpan], segment_size: int) -> int:
    """The timeline whose file recovery reads for segment ``segno`` along ``path``."""
    for span in reversed(path):
        if segment_of(span.begin_lsn, segment_size) <= segno:
            return span.timeline
    return path[0].timeline


def covers(path: list[TimelineSpan], timeline: int, lsn: int) -> bool:
    """Whether ``path`` passes through ``timeline`` at ``lsn`` (before it branched away)."""
    return any(
        s.timeline == timeline and s.begin_lsn <= lsn and (s.end_lsn is None or lsn < s.end_lsn)
        for s in path
    )


def newest_timeline_through(
    timeline: int, lsn: int, candidates: set[int], histories: Mapping[int, list[HistoryEntry]]
) -> int:
    """The newest timeline whose path passes through (``timeline``, ``lsn``), as
    ``recovery_target_timeline = 'latest'`` would choose; ``timeline`` itself if none."""
    for target in sorted(candidates | {timeline}, reverse=True):
        if target >= timeline and covers(timeline_path(target, histories), timeline, lsn):
            return target
    return timeline


def history_issues(
    timelines: set[int],
    histories: Mapping[int, list[HistoryEntry]],
    unreadable: Mapping[int, str],
) -> list[TimelineIssue]:
    """Missing, unreadable or contradictory history files among ``timelines``."""
    issues = [
        TimelineIssue("error", history_name(t), f"timeline {t}'s history file is unreadable: {why}")
        for t, why in sorted(unreadable.items())
    ]
    for t in sorted(timelines | set(histories)):
        if t > 1 and t not in histories and t not in unreadable:
            issues.append(
                TimelineIssue(
                    "error",
                    history_name(t),
                    f"timeline {t} has WAL but its history file is not archived: recovery "
                    "cannot follow it",
                )
            )
        elif t in histories:
            issues.extend(_one_history(t, histories))
    return issues


def _one_history(t: int, histories: Mapping[int, list[HistoryEntry]]) -> list[TimelineIssue]:
    entries = histories[t]
    name = history_name(t)
    tlis = [e.timeline for e in entries]
    lsns = [e.switch_lsn for e in entries]
    if tlis != sorted(set(tlis)) or any(x >= t for x in tlis) or lsns != sorted(lsns):
        return [TimelineIssue("error", name, f"{name} lists its ancestors out of order")]
    if not entries:
        return []
    parent = entries[-1].timeline
    if parent in histories and _key(histories[parent]) != _key(entries[:-1]):
        return [
            TimelineIssue(
                "error",
                name,
                f"{name} disagrees with {history_name(parent)} about the ancestors of "
                f"timeline {parent}",
            )
        ]
    return []


def _key(entries: list[HistoryEntry]) -> list[tuple[int, int]]:
    return [(e.timeline, e.switch_lsn) for e in entries]


def fork_warnings(
    segments: set[tuple[int, int]],
    histories: Mapping[int, list[HistoryEntry]],
    segment_size: int,
) -> list[TimelineIssue]:
    """Timelines that went on writing after a child branched off them (two primaries)."""
    warnings = []
    for child, entries in sorted(histories.items()):
        if not entries:
            continue
        parent, switch = entries[-1].timeline, entries[-1].switch_lsn
        after = [s for tli, s in segments if tli == parent and s > segment_of(switch, segment_size)]
        if after:
            warnings.append(
                TimelineIssue(
                    "warning",
                    history_name(child),
                    f"timeline {parent} has {len(after)} WAL segment(s) after timeline {child} "
                    f"branched off it at {format_lsn(switch)}: a server kept writing on "
                    f"timeline {parent} after another was promoted",
                )
            )
    return warnings
