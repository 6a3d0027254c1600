"""One split-brain cycle for an agent: gather, detect, resolve, and the reach row to publish.

The agent calls :func:`split_brain_cycle` once per loop, after its DCS read,
and then (1) publishes ``result.reach_row`` under :data:`REACH_KIND`, (2)
hands ``result.states`` to :func:`~drkit.ha.splitbrain.alerts.reconcile_split_brain`,
(3) carries out ``result.resolution`` (its fence steps) when it says FENCE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from drkit.ha.drivers.dcs.base import ClusterView, Record
from drkit.ha.splitbrain.audit import AuditEntry, active_override, audit_trail, fenced_sites
from drkit.ha.splitbrain.detect import SplitBrainState, detect
from drkit.ha.splitbrain.facts import Facts, Link, Reachability, View
from drkit.ha.splitbrain.gather import Parts, gather, reach_from_view, reach_record
from drkit.ha.splitbrain.resolve import Resolution, resolve


@dataclass(frozen=True)
class CycleResult:
    facts: Facts
    states: tuple[SplitBrainState, ...]
    resolution: Resolution
    reach_row: Record
    side: View
    """What this side resolved on (override, hand-fenced sites, votes' matrix)."""
    trail: tuple[AuditEntry, ...] = ()


def split_brain_cycle(
    parts: Parts,
    view: ClusterView | None,
    me: str,
    my_links: Mapping[str, bool],
    now: float,
    *,
    leader: str | None,
    owns_dns: frozenset[str] = frozenset(),
    collect: Callable[[Reachability], Facts] | None = None,
    writable_me: bool | None = None,
    remembered: tuple[AuditEntry, ...] = (),
    row_ttl_s: float | None = None,
    lost: Mapping[str, float] | None = None,
) -> CycleResult:
    """``view``: this cycle's DCS read (None when etcd did not answer). ``leader``: the
    lease holder as the agent trusts it now (the view's leader; with no view, ``me``
    only while its own lease deadline has not passed, else None). ``my_links``: whom
    this agent reached this cycle (other sites, ``database``, ``etcd``). ``collect``: the
    facts from probes already under way (default: :func:`gather` now). ``writable_me``:
    this agent's own probe of its database, which wins over the gathered one.
    ``remembered``: the audit trail of the last view, used while etcd does not answer
    (an override or a hand fence holds through an etcd outage). ``row_ttl_s``: other
    agents' reach rows older than this are left out as stale (their views unknown), and
    so are rows published before ``lost[site]``, when this agent lost that site."""
    if view is not None:
        reach = reach_from_view(view, me, my_links, now=now, max_age_s=row_ttl_s, lost=lost)
        trail = audit_trail(view)
    else:
        reach = Reachability(tuple(Link(me, t, ok) for t, ok in my_links.items()))
        trail = remembered
    facts = collect(reach) if collect is not None else gather(parts, leader=leader, reach=reach)
    writable = {d.site for d in facts.databases if d.reachable and d.writable}
    if writable_me is not None:
        writable = (writable - {me}) | ({me} if writable_me else set())
    paused = None
    if view is not None and view.pause is not None:
        paused = f"{view.pause.get('who', '?')}: {view.pause.get('reason', '')}"
    side = View(
        sites=parts.sites,
        witnesses=parts.witnesses,
        reach=reach,
        leader=leader,
        writable=frozenset(writable),
        fenced=fenced_sites(trail),
        owns_dns=owns_dns,
        paused=paused,
        override=active_override(trail, now),
    )
    return CycleResult(
        facts,
        tuple(detect(facts)),
        resolve(side, me),
        reach_record(my_links, now),
        side,
        trail,
    )
