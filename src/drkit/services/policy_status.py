"""Gathering what each repository of a policy holds, for the 3-2-1 evaluation.

The evaluation itself is the pure :func:`drkit.policy.compliance.evaluate`;
this module only reads snapshot lists. A repository that cannot be opened
is recorded with its error and simply does not count as a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from drkit.errors import DrkitError
from drkit.policy.compliance import Compliance, RepositoryCopy, SourceState, evaluate, live_site
from drkit.policy.membership import covers
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.services.wal_recovery import physical_labels, source_recovery
from drkit.settings.model import RepositorySettings
from drkit.settings.policies import PolicySettings
from drkit.sources.registry import source_labels
from drkit.sources.wal_rpo_measure import NoLedger, WalLedger

Opener = Callable[[str], Repository]


def policy_compliance(
    policy: PolicySettings,
    repositories: Mapping[str, RepositorySettings],
    open_repo: Opener,
    now: datetime,
    wal_ledger: WalLedger | None = None,
) -> list[Compliance]:
    """One verdict per source of ``policy``; a physical source's copy is as fresh as its
    recovery point (base backup + gap-free WAL, see drkit.services.wal_recovery)."""
    listings = {name: _snapshots(name, open_repo) for name in policy.repositories}
    physical = physical_labels(policy.sources)
    ledger = wal_ledger or NoLedger()
    results = []
    site = live_site(policy.site, "site" in policy.model_fields_set)
    for source in source_labels(policy.sources):
        copies = tuple(
            _with_recovery(
                _copy(name, repositories[name], listings[name], source),
                listings[name],
                source,
                ledger,
            )
            if source in physical
            else _copy(name, repositories[name], listings[name], source)
            for name in policy.repositories
        )
        live_media = "disk"  # file sources live on disks; database sources will say otherwise
        results.append(evaluate(SourceState(source, site, live_media, copies, policy.rpo, now)))
    return results


Listing = tuple[Repository, list[Snapshot]] | str


def _snapshots(name: str, open_repo: Opener) -> Listing:
    try:
        repo = open_repo(name)
        return repo, repo.snapshots(on_damaged=lambda *_: None)
    except DrkitError as exc:
        return exc.message


def _with_recovery(
    copy: RepositoryCopy, listing: Listing, source: str, ledger: WalLedger
) -> RepositoryCopy:
    if isinstance(listing, str):
        return copy
    try:
        point = source_recovery(*listing, source, ledger)
    except DrkitError as exc:
        return replace(copy, recovery=f"WAL archive unreadable: {exc.message}")
    if point is None:
        return copy
    newest = max((t for t in (copy.newest, point.time) if t), default=None)
    return replace(copy, newest=newest, recovery=point.sentence(), gap=point.gap or "")


def _copy(name: str, settings: RepositorySettings, listing: Listing, source: str) -> RepositoryCopy:
    if isinstance(listing, str):
        return RepositoryCopy(name, settings.media.value, settings.site, None, listing)
    times = [s.time for s in listing[1] if covers(s, source) and s.complete]
    return RepositoryCopy(name, settings.media.value, settings.site, max(times, default=None))
