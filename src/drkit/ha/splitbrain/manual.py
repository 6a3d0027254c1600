"""Manual override, fence and unfence: what the operator asks, checked against the quorum,
recorded in the audit trail (etcd history; it survives agent and CLI restarts).

The automatic decision an action overrules is computed from the DCS view
alone (the leader key, the published member and reach rows), as any agent
would resolve it: :func:`automatic` is pure, and the warning when an
override goes against the quorum comes from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from drkit.errors import UsageError
from drkit.ha.drivers.dcs.base import DCS, ClusterView
from drkit.ha.splitbrain.audit import (
    AuditEntry,
    ManualAction,
    active_override,
    audit_trail,
    entry,
    fenced_sites,
    record_action,
)
from drkit.ha.splitbrain.facts import Link, Reachability, View
from drkit.ha.splitbrain.gather import REACH_KIND
from drkit.ha.splitbrain.kept import union
from drkit.ha.splitbrain.resolve import Outcome, Resolution, has_majority, resolve, votes_of


def side_view(sites: Sequence[str], witnesses: Sequence[str], view: ClusterView) -> View:
    """The cluster as every published row shows it (what an observer outside sees)."""
    links = []
    for source, record in view.of_kind(REACH_KIND).items():
        reaches = record.get("reaches")
        if isinstance(reaches, dict):
            links += [Link(source, str(t), ok) for t, ok in reaches.items() if isinstance(ok, bool)]
    writable = frozenset(s for s, m in view.members.items() if m.get("role") == "primary")
    return View(
        sites=tuple(sites),
        witnesses=tuple(witnesses),
        reach=Reachability(tuple(links)),
        leader=view.leader.site if view.leader is not None else None,
        writable=writable,
    )


def automatic(side: View) -> Resolution:
    """What the quorum decides now: the lease holder's resolution, or that none leads."""
    if side.leader is None:
        return Resolution(Outcome.WAIT, "no site holds the lease: the agents elect a primary")
    return resolve(side, side.leader)


def against_quorum(side: View, site: str) -> str | None:
    """The warning when naming ``site`` primary goes against the quorum, else None."""
    votes = votes_of(side, site)
    count = f"{len(votes)} of {len(side.voters)} votes"
    if side.reach.reports(site) and not has_majority(side, votes):
        return f"{site} has only {count}: the override goes against the quorum"
    if side.leader is not None and side.leader != site:
        leader_votes = votes_of(side, side.leader)
        if has_majority(side, leader_votes):
            return (
                f"{side.leader} holds the lease with {len(leader_votes)} of "
                f"{len(side.voters)} votes: the override goes against the quorum"
            )
    return None


@dataclass(frozen=True)
class Manual:
    sites: tuple[str, ...]
    witnesses: tuple[str, ...]

    def _site(self, site: str) -> None:
        if site not in self.sites:
            raise UsageError(
                f"{site!r} is not a site with a database", hint=f"sites: {', '.join(self.sites)}"
            )

    def plan_override(
        self,
        view: ClusterView,
        site: str,
        *,
        who: str,
        reason: str,
        now: float,
        expires_at: float | None,
    ) -> AuditEntry:
        """The entry an override would record (not recorded yet: the CLI asks first)."""
        self._site(site)
        side = side_view(self.sites, self.witnesses, view)
        return entry(
            ManualAction.OVERRIDE,
            who=who,
            at=now,
            reason=reason,
            automatic=automatic(side),
            site=site,
            expires_at=expires_at,
            against_quorum=against_quorum(side, site),
        )

    def act(
        self,
        dcs: DCS,
        view: ClusterView,
        action: ManualAction,
        *,
        who: str,
        reason: str,
        now: float,
        site: str | None = None,
    ) -> AuditEntry:
        """Lift the override, pause, resume, fence or unfence: checked, then recorded."""
        trail = audit_trail(view)
        if site is not None:
            self._site(site)
        if action is ManualAction.LIFT_OVERRIDE and active_override(trail, now) is None:
            raise UsageError("no override is in force", hint="`drkit ha status` shows it")
        if action is ManualAction.UNFENCE and site not in fenced_sites(trail):
            raise UsageError(f"{site} is not fenced by hand", hint="`drkit ha status` shows it")
        side = side_view(self.sites, self.witnesses, view)
        item = entry(action, who=who, at=now, reason=reason, automatic=automatic(side), site=site)
        record_action(dcs, item)
        return item


@dataclass(frozen=True)
class ManualStatus:
    """What `drkit ha status` shows of the manual actions."""

    override: dict[str, Any] | None
    fenced: tuple[str, ...]
    audit: tuple[dict[str, Any], ...]
    missing_in_etcd: int = 0
    """Entries only the catalog keeps (etcd lost them; an agent puts them back when it starts)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def manual_status(
    view: ClusterView, now: float, last: int = 10, kept: tuple[AuditEntry, ...] = ()
) -> ManualStatus:
    """The override, hand fences and latest entries of the union of etcd's and ``kept``."""
    in_etcd = audit_trail(view)
    trail = union(in_etcd, kept)
    forced = active_override(trail, now)
    override = None
    if forced is not None:
        item = next(
            e for e in reversed(trail) if e.action is ManualAction.OVERRIDE and e.at == forced.at
        )
        override = {
            "primary": forced.primary,
            "who": forced.who,
            "reason": forced.reason,
            "at": forced.at,
            "expires_at": item.expires_at,
            "against_quorum": item.against_quorum,
        }
    audit = tuple(dict(e.record()) for e in trail[-last:])
    missing = len(trail) - len(in_etcd)
    return ManualStatus(override, tuple(sorted(fenced_sites(trail))), audit, missing)
