"""The status of every policy: 3-2-1 per source, with what monitoring knows per repository.

``status_report(...).to_json()`` is `drkit status --json` and the API's
``GET /api/status``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drkit.errors import UsageError
from drkit.monitor.facts import Facts, RepositoryFacts, RestoreState, SourceRestore, facts_from
from drkit.monitor.open_alerts import OpenAlert, quick_open_alerts
from drkit.monitor.quick_facts import quick_rows
from drkit.policy.compliance import Compliance
from drkit.repository.repo import Repository
from drkit.services.policy_status import policy_compliance
from drkit.services.wal_recovery import CatalogWalLedger
from drkit.services.workspace import Workspace

Watched = dict[str, RepositoryFacts]  # repository name -> facts


@dataclass(frozen=True)
class PolicyStatus:
    policy: str
    verdicts: list[Compliance]
    watched: Watched

    def to_json(self) -> list[dict[str, Any]]:
        return [compliance_json(c, self.watched) for c in self.verdicts]


@dataclass(frozen=True)
class StatusReport:
    policies: list[PolicyStatus]

    def to_json(self) -> dict[str, Any]:
        return {p.policy: p.to_json() for p in self.policies}


def status_report(
    workspace: Workspace,
    names: list[str] | None,
    now: datetime,
    open_repo: Callable[[str], Repository] | None = None,
) -> StatusReport:
    """The policies named (all when None); a usage error when none is defined or one is unknown."""
    settings = workspace.settings
    if not settings.policies:
        raise UsageError(
            "no policies are defined",
            hint="add a 'policies:' section to drkit.yaml (see docs/policies.md)",
        )
    chosen = names or sorted(settings.policies)
    for name in chosen:
        workspace.policy(name)  # an unknown name is a usage error listing the defined ones
    opener = open_repo or workspace.open_named
    facts = monitor_facts(workspace, now)
    ledger = CatalogWalLedger(workspace.catalog)  # WAL proved intact once, not per status
    seen = {p.name: {r.name: r for r in p.repositories} for p in facts.policies}
    return StatusReport(
        [
            PolicyStatus(
                n,
                policy_compliance(settings.policies[n], settings.repositories, opener, now, ledger),
                seen.get(n, {}),
            )
            for n in chosen
        ]
    )


def monitor_facts(workspace: Workspace, now: datetime) -> Facts:
    """What the monitor knows: a current SQLite catalog read with sqlite3
    (:mod:`drkit.monitor.quick_facts`), any other through the ORM."""
    rows = quick_rows(workspace.catalog_url())
    if rows is None:
        from drkit.monitor.facts import orm_rows

        rows = orm_rows(workspace.catalog())
    return facts_from(rows, workspace.settings, now)


def open_alerts(workspace: Workspace) -> list[OpenAlert]:
    """The open alerts, oldest first (read as :func:`monitor_facts` reads)."""
    found = quick_open_alerts(workspace.catalog_url())
    if found is not None:
        return found
    from drkit.monitor.alerts import open_alerts as orm_open_alerts

    rows = orm_open_alerts(workspace.catalog())
    return [OpenAlert(a.id, a.severity, a.summary, a.source) for a in rows]


def restore_state(facts: RepositoryFacts, source: str, newest: datetime | None) -> RestoreState:
    """What restore tests prove of ``source`` here: never "ok" for a source with no snapshot."""
    if newest is None:
        return RestoreState.NO_SNAPSHOT
    return (facts.restore_of(source) or SourceRestore("", None, None, None)).judged(newest)


def watched_json(
    facts: RepositoryFacts | None, source: str, newest: datetime | None
) -> dict[str, Any]:
    if facts is None:
        return {}
    check, restore = facts.last_check, facts.restore_of(source)
    test = restore.last if restore is not None else None
    return {
        "newest_verified": facts.newest_verified,
        "last_check": {"kind": check.kind, "ok": check.ok, "time": check.time} if check else None,
        "restore_test": restore_state(
            facts, source, newest
        ).value,  # ok, failed, never tested, no snapshot
        "last_restore_test": (
            {"ok": test.ok, "time": test.time, "duration_s": test.duration_s} if test else None
        ),
    }


def compliance_json(c: Compliance, watched: Watched) -> dict[str, Any]:
    return {
        "source": c.source,
        "ok": c.ok,
        "copies": c.copies,
        "media": list(c.media),
        "offsite": list(c.offsite),
        "rules": [{"rule": r.rule.value, "ok": r.ok, "detail": r.detail} for r in c.rules],
        "repositories": [
            {
                "name": v.copy.repository,
                "media": v.copy.media,
                "site": v.copy.site,
                "newest": v.copy.newest,
                "age_s": v.age.total_seconds() if v.age else None,
                "counts": v.counts,
                "why": v.why,
                **({"recovery_point": v.copy.recovery} if v.copy.recovery else {}),
                **watched_json(watched.get(v.copy.repository), c.source, v.copy.newest),
            }
            for v in c.verdicts
        ],
    }
