"""Which snapshots belong to a policy: one rule for forget, the RPO monitor and drills.

A snapshot belongs to policy ``NAME`` when it carries the tag ``policy:NAME``
(every backup drkit takes for a policy does, database sources included), or,
for snapshots taken before the tag existed, when its paths are exactly the
policy's file paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

TAG_PREFIX = "policy:"


class HasPaths(Protocol):
    @property
    def paths(self) -> list[str]: ...


def covers(snapshot: HasPaths, source: str) -> bool:
    """Whether the snapshot holds ``source``: it backed up the path or a folder above it."""
    return any(source == p or source.startswith(p.rstrip("/") + "/") for p in snapshot.paths)


def policy_tag(name: str) -> str:
    """The tag a backup for policy ``name`` carries."""
    return f"{TAG_PREFIX}{name}"


def belongs_to_policy(
    name: str, tags: Iterable[str], paths: Iterable[str], policy_paths: Iterable[str]
) -> bool:
    """Whether a snapshot with ``tags`` and ``paths`` is one of policy ``name``'s."""
    if policy_tag(name) in set(tags):
        return True
    return sorted(paths) == sorted(policy_paths)
