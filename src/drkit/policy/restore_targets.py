"""Which restore tests prove every source of a policy: one per source, its newest snapshot.

A policy's typed sources (databases, ...) are each backed up into snapshots
of their own, and its plain paths together into one file snapshot, so the
newest snapshot of the policy holds one source only. Restore evidence is
per source: a drill or a scheduled restore test restores each target below
(a pure function of the settings), and the evidence it records names the
sources the snapshot held.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.settings.policies import PolicySettings
from drkit.sources.registry import source_labels


@dataclass(frozen=True)
class RestoreTarget:
    """One restore test: the newest snapshot holding ``path``; it proves ``sources``."""

    path: str | None  # None: the snapshot the caller named, whatever it holds
    sources: tuple[str, ...]  # the policy's source labels it is to prove

    @property
    def label(self) -> str:
        return ", ".join(self.sources)


def restore_targets(policy: PolicySettings) -> list[RestoreTarget]:
    """One target per typed source, one for all the plain paths (one file snapshot)."""
    labels = source_labels(policy.sources)
    plain = [isinstance(source, str) for source in policy.sources]
    files = [label for label, is_path in zip(labels, plain, strict=True) if is_path]
    targets = [RestoreTarget(files[0], tuple(files))] if files else []
    typed = [label for label, is_path in zip(labels, plain, strict=True) if not is_path]
    return targets + [RestoreTarget(label, (label,)) for label in typed]
