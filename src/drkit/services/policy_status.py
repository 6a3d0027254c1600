"""Gathering what each repository of a policy holds, for the 3-2-1 evaluation.

The evaluation itself is the pure :func:`drkit.policy.compliance.evaluate`;
this module only reads snapshot lists. A repository that cannot be opened
is recorded with its error and simply does not count as a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from drkit.errors import DrkitError
from drkit.policy.compliance import Compliance, RepositoryCopy, SourceState, evaluate, live_site
from drkit.policy.membership import covers
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.settings.model import RepositorySettings
from drkit.settings.policies import PolicySettings
from drkit.sources.registry import source_labels

Opener = Callable[[str], Repository]


def policy_compliance(
    policy: PolicySettings,
    repositories: Mapping[str, RepositorySettings],
    open_repo: Opener,
    now: datetime,
) -> list[Compliance]:
    """One verdict per source of ``policy``."""
    listings = {name: _snapshots(name, open_repo) for name in policy.repositories}
    results = []
    site = live_site(policy.site, "site" in policy.model_fields_set)
    for source in source_labels(policy.sources):
        copies = tuple(
            _copy(name, repositories[name], listings[name], source) for name in policy.repositories
        )
        live_media = "disk"  # file sources live on disks; database sources will say otherwise
        results.append(evaluate(SourceState(source, site, live_media, copies, policy.rpo, now)))
    return results


def _snapshots(name: str, open_repo: Opener) -> list[Snapshot] | str:
    try:
        return open_repo(name).snapshots(on_damaged=lambda *_: None)
    except DrkitError as exc:
        return exc.message


def _copy(
    name: str, settings: RepositorySettings, listing: list[Snapshot] | str, source: str
) -> RepositoryCopy:
    if isinstance(listing, str):
        return RepositoryCopy(name, settings.media.value, settings.site, None, listing)
    times = [s.time for s in listing if covers(s, source) and s.complete]
    return RepositoryCopy(name, settings.media.value, settings.site, max(times, default=None))
