"""Forget: pick snapshots by retention policy or by id, and remove them.

Only the ``snapshots/ID`` objects go; the data they referred to stays until
``prune`` finds nothing else needs it. The policy itself is the pure
:func:`drkit.policy.apply_retention`, applied to each group of snapshots
(by default, the snapshots of one host and one set of paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drkit.errors import UsageError
from drkit.policy import RetentionDecision, RetentionPolicy, apply_retention, group_snapshots
from drkit.repository.faults import crash_point
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.storage.base import FileKind

GROUP_FIELDS = ("host", "paths", "tags")
DEFAULT_GROUP_BY = "host,paths"

GroupKey = tuple[tuple[str, str], ...]  # (field, value) pairs, in the order asked for


@dataclass(frozen=True)
class GroupDecision:
    """The policy's verdict on one group of snapshots."""

    key: GroupKey
    decision: RetentionDecision[Snapshot]

    def describe(self) -> str:
        return " ".join(f"{name}={value or '-'}" for name, value in self.key) or "all snapshots"


def parse_group_by(text: str) -> tuple[str, ...]:
    """``host,paths`` -> ``("host", "paths")``; an empty text puts all in one group."""
    fields = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [f for f in fields if f not in GROUP_FIELDS]
    if unknown:
        raise UsageError(
            f"cannot group snapshots by {', '.join(unknown)}",
            hint=f"use a comma-separated list of {', '.join(GROUP_FIELDS)}, or '' for one group",
        )
    return tuple(dict.fromkeys(fields))


def group_key(snap: Snapshot, fields: Sequence[str]) -> GroupKey:
    values = {
        "host": snap.hostname,
        "paths": ",".join(sorted(snap.paths)),
        "tags": ",".join(sorted(snap.tags)),
    }
    return tuple((name, values[name]) for name in fields)


def plan_forget(
    snapshots: Sequence[Snapshot], policy: RetentionPolicy, fields: Sequence[str]
) -> list[GroupDecision]:
    """Apply ``policy`` to each group; groups in order of their oldest snapshot."""
    groups = group_snapshots(snapshots, lambda s: group_key(s, fields))
    return [GroupDecision(key, apply_retention(members, policy)) for key, members in groups.items()]


def select_by_id(snapshots: Sequence[Snapshot], refs: Sequence[str]) -> list[Snapshot]:
    """Resolve id prefixes to snapshots, each once, in the order given."""
    chosen: dict[str, Snapshot] = {}
    for ref in refs:
        snap = find_snapshot(list(snapshots), ref)
        chosen.setdefault(snap.id, snap)
    return list(chosen.values())


def unreadable_matches(
    repo: Repository, snapshots: Sequence[Snapshot], refs: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Split ``refs`` into those naming readable snapshots and the full ids of damaged ones.

    A damaged snapshot object cannot be read, so ``find_snapshot`` never sees
    it; naming it by id prefix must still remove it, or it would block prune.
    """
    readable = {s.id for s in snapshots}
    stored = [info.name for info in repo.backend.list(FileKind.SNAPSHOT)]
    damaged: list[str] = []
    rest: list[str] = []
    for ref in refs:
        hits = [n for n in stored if n.startswith(ref) and n not in readable]
        if len(ref) >= 4 and len(hits) == 1 and not any(r.startswith(ref) for r in readable):
            damaged.append(hits[0])
        else:
            rest.append(ref)
    return rest, damaged


def remove_snapshots(repo: Repository, snapshots: Sequence[Snapshot]) -> list[str]:
    """Delete the snapshot objects; return the removed ids."""
    removed = []
    for snap in snapshots:
        repo.remove_snapshot(snap.id)
        removed.append(snap.id)
        crash_point("forget-removed")
    return removed


__all__ = [
    "DEFAULT_GROUP_BY",
    "GROUP_FIELDS",
    "GroupDecision",
    "GroupKey",
    "parse_group_by",
    "plan_forget",
    "remove_snapshots",
    "select_by_id",
]
