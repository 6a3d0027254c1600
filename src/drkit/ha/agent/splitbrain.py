"""The agent's split-brain watch: facts gathered each cycle, reach links, fence steps, alerts.

The :class:`~drkit.ha.agent.loop.Agent` starts the probes (:meth:`SplitBrainWatch.start`)
at the beginning of its cycle, beside its own health checks, and collects them
after its etcd read, bounded by the check timeout: a frozen or partitioned
part is a missing fact and never holds the loop (or the fencing) up.

Alerts go through the catalog's alert bookkeeping on a worker thread of
their own (a catalog on another site may hang during the very partition it
reports); a cycle whose predecessor's report is still running skips its
report, the next one carries the latest states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.drivers.dns.base import Dns, DnsRecord
from drkit.ha.health.checks import Probe, ProbeResult
from drkit.ha.health.risefall import CheckState, Health, step
from drkit.ha.splitbrain.audit import AuditEntry
from drkit.ha.splitbrain.cycle import CycleResult, split_brain_cycle
from drkit.ha.splitbrain.detect import SplitBrainState
from drkit.ha.splitbrain.facts import DATABASE, ETCD
from drkit.ha.splitbrain.gather import (
    REACH_KIND,
    Parts,
    Pending,
    finish_gather,
    row_age,
    start_gather,
)
from drkit.ha.splitbrain.metrics import render_split_brain
from drkit.ha.splitbrain.resolve import Outcome, Resolution

log = logging.getLogger("drkit.ha.agent")

Report = Callable[[Sequence[SplitBrainState], float], None]
"""(states detected now, wall time) -> opens, repeats and resolves the alerts."""


@dataclass
class SplitBrainWatch:
    """What one agent needs for split brain beyond its failover loop."""

    cluster: str
    site: str
    parts: Parts
    agent_probes: Mapping[str, Probe] = field(default_factory=dict)
    """Per other voter: a probe of its agent's endpoint (reachable even when its database
    is not); a voter with neither this nor a database probe is counted from its own
    published reach row."""
    owns_dns: frozenset[str] = frozenset()
    dns: Dns | None = None
    records: tuple[DnsRecord, ...] = ()
    dns_ttl: int = 30
    report: Report | None = None
    reach_seen: dict[str, CheckState] = field(default_factory=dict)
    last: CycleResult | None = None
    trail: tuple[AuditEntry, ...] = ()
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="sb-probe")
    )
    _reporter: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="sb-alerts")
    )
    _reporting: Future[None] | None = None

    # --- gathering -----------------------------------------------------------------------

    def start(self) -> Pending:
        return start_gather(self.parts, self._pool)

    def saw_agent(self, site: str, result: ProbeResult, now: float, rise: int, fall: int) -> None:
        old = self.reach_seen.get(site, CheckState())
        self.reach_seen[site] = step(old, result.ok, now, rise, fall, result.detail)

    def links(
        self,
        db_seen: Mapping[str, CheckState],
        database_up: bool | None,
        view: ClusterView | None,
        now: float | None = None,
        row_ttl_s: float | None = None,
    ) -> dict[str, bool]:
        """Whom this agent reaches now: each other voter (its database or its agent answers,
        down only after ``fall`` failures), its own database, and etcd. A voter probed by
        neither counts from its own row, when that row is fresh (``row_ttl_s``)."""
        links: dict[str, bool] = {}
        for voter in (*self.parts.sites, *self.parts.witnesses):
            if voter == self.site:
                continue
            seen = [s for s in (db_seen.get(voter), self.reach_seen.get(voter)) if s is not None]
            if seen:
                links[voter] = any(s.health is not Health.DOWN for s in seen)
            elif view is not None:
                back = _their_row(view, voter, now, row_ttl_s).get(self.site)
                if isinstance(back, bool):
                    links[voter] = back  # no probe of it: assume the link is symmetric
        if database_up is not None:
            links[DATABASE] = database_up
        links[ETCD] = view is not None
        return links

    def cycle(
        self,
        pending: Pending,
        view: ClusterView | None,
        links: Mapping[str, bool],
        now: float,
        *,
        leader: str | None,
        writable_me: bool | None,
        wait_s: float,
        row_ttl_s: float | None = None,
        lost: Mapping[str, float] | None = None,
    ) -> CycleResult:
        result = split_brain_cycle(
            self.parts,
            view,
            self.site,
            links,
            now,
            leader=leader,
            owns_dns=self.owns_dns,
            collect=lambda reach: finish_gather(
                pending, self.parts, leader=leader, reach=reach, wait_s=wait_s
            ),
            writable_me=writable_me,
            remembered=self.trail,
            row_ttl_s=row_ttl_s,
            lost=lost,
        )
        self.trail = result.trail
        self.last = result
        return result

    # --- fencing -------------------------------------------------------------------------

    def withdraw_dns(self, leader: str | None) -> None:
        """Point the records that hold this site's values at the leader's (compare-and-set)."""
        mine = self.parts.dns_values.get(self.site)
        theirs = self.parts.dns_values.get(leader) if leader and leader != self.site else None
        if self.dns is None or not mine:
            return
        if not theirs:
            log.warning("%s: DNS left as it is: no other primary to point it at", self.site)
            return
        for record in self.records:
            try:
                self.dns.replace(record, list(theirs), self.dns_ttl, if_current=list(mine))
            except Exception as exc:  # a fence step never stops the next one
                log.error("%s: DNS withdraw of %s failed: %s", self.site, record.name, exc)

    # --- alerts and metrics --------------------------------------------------------------

    def report_states(self, now: float) -> None:
        if self.report is None or self.last is None:
            return
        if self._reporting is not None and not self._reporting.done():
            return
        self._reporting = self._reporter.submit(self._safe_report, self.last.states, now)

    def _safe_report(self, states: Sequence[SplitBrainState], now: float) -> None:
        assert self.report is not None
        try:
            self.report(states, now)
        except Exception as exc:
            log.error("%s: split-brain alerts not reconciled: %s", self.site, exc)

    def wait_reported(self, timeout_s: float = 30.0) -> None:
        """For tests and shutdown: the report under way, if any, finished."""
        if self._reporting is not None:
            self._reporting.result(timeout=timeout_s)

    def metrics(self) -> str:
        if self.last is None:
            return render_split_brain(
                self.cluster, self.site, (), Resolution(Outcome.NOTHING, "not run yet")
            )
        return render_split_brain(self.cluster, self.site, self.last.states, self.last.resolution)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reporter.shutdown(wait=True)


def _their_row(
    view: ClusterView, voter: str, now: float | None, row_ttl_s: float | None
) -> Mapping[str, object]:
    record = view.of_kind(REACH_KIND).get(voter, {})
    age = row_age(record, now)
    if row_ttl_s is not None and (age is None or age > row_ttl_s):
        return {}
    reaches = record.get("reaches")
    return reaches if isinstance(reaches, Mapping) else {}
