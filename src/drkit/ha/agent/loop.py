"""The HA agent loop: gather one snapshot, decide, act; again every loop interval.

One :meth:`Agent.tick` probes its own database and the other sites' public
endpoints at once (each within the check timeout), reads etcd once, builds
the :class:`~drkit.ha.model.Snapshot`, calls :func:`~drkit.ha.decide.decide`
and carries the decision out. A tick that raises is logged and the loop goes
on (:meth:`Agent.run`); the loop never dies of one bad tick.

With a :class:`~drkit.ha.agent.splitbrain.SplitBrainWatch` the cycle also gathers the
split-brain facts (every database, load balancer and DNS server, in parallel with
the health checks), resolves this side by quorum, and
:func:`~drkit.ha.splitbrain.precedence.combine` makes one plan of the failover
decision and the resolution (fencing first; see that module for the order). The
reach row is published with the member record; alerts are reconciled off the loop.

Only the lease holder acts on the cluster. The lease deadline is kept on the
monotonic clock from the moment a refresh was *sent*, so it is never later
than etcd's own expiry; a woken frozen agent sees at once that it is past.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

from drkit.ha.agent.splitbrain import SplitBrainWatch
from drkit.ha.decide import Action, Decision, decide, replication_alerts, synchronous_standbys
from drkit.ha.drivers.database.base import Database, DatabaseState, StopMode
from drkit.ha.drivers.dcs.base import DCS, ClusterView
from drkit.ha.drivers.errors import DCSUnavailable
from drkit.ha.drivers.loadbalancer.base import AdminState, LoadBalancer
from drkit.ha.gather import Memory, member_record, role_of, snapshot
from drkit.ha.health.checks import Probe, ProbeResult
from drkit.ha.health.risefall import CheckState, Health, step
from drkit.ha.model import Local, Role, Snapshot
from drkit.ha.policy import Policy
from drkit.ha.splitbrain.gather import REACH_KIND, Pending
from drkit.ha.splitbrain.precedence import DEFAULT_STEPS, Plan, Situation, combine
from drkit.ha.splitbrain.resolve import FenceStep
from drkit.ha.splitbrain.stall import after_stall, grace_s, stall_threshold_s
from drkit.ha.sync import SyncOp, standby_names, sync_step

log = logging.getLogger("drkit.ha.agent")
T = TypeVar("T")

FailoverProcedure = Callable[[str | None, str, str], str]
"""(old site, new site, reason) -> a note for the history (e.g. the run id); raises on failure."""
Alert = Callable[[str], None]


def _result(future: Future[T], wait_s: float, default: T) -> T:
    try:
        return future.result(timeout=max(wait_s, 0.0))
    except FutureTimeout:
        return default


RETRY_PAUSE_S = 0.1
"""Between two tries of etcd while riding out an outage (every member is tried each time)."""
MIN_PAUSE_S = 0.05
"""The least pause between two cycles, however often the leader key changes."""
STOP_POLL_S = 0.1
"""How often a pause looks at the stop event while it waits for a leader change."""


@dataclass(frozen=True)
class AgentTimings:
    loop_interval_s: float
    check_timeout_s: float
    lease_ttl_s: float
    rise: int
    fall: int
    dcs_timeout_s: float = 1.0
    fence_timeout_s: float = 2.0
    safety_margin_s: float = 1.0

    def last_call_mono(self, lease_deadline_mono: float) -> float:
        """The last moment an etcd call may start and still leave time to fence before expiry.

        A call takes at most ``dcs_timeout_s``; fencing ``fence_timeout_s``; the
        margin is kept free. Past this moment a primary that has not renewed fences.
        """
        return (
            lease_deadline_mono - self.dcs_timeout_s - self.fence_timeout_s - self.safety_margin_s
        )


@dataclass
class Agent:
    """The agent of one site. ``database`` is None for a witness."""

    site: str
    policy: Policy
    timings: AgentTimings
    dcs: DCS
    database: Database | None
    load_balancer: LoadBalancer | None = None
    lb_server: str | None = None
    peers: Mapping[str, Probe] = field(default_factory=dict)
    """Per other database site: the probe of its public database endpoint."""
    failover: FailoverProcedure | None = None
    upstream: Callable[[str | None], str | None] = lambda site: None
    """primary_conninfo of a site's database (for a demoted primary to follow)."""
    alert: Alert | None = None
    wall: Callable[[], float] = time.time
    mono: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    memory: Memory = field(default_factory=Memory)
    own: CheckState = field(default_factory=CheckState)
    seen: dict[str, CheckState] = field(default_factory=dict)
    last: Decision | None = None
    last_state: DatabaseState | None = None
    split: SplitBrainWatch | None = None
    last_plan: Plan | None = None
    _alerted: set[str] = field(default_factory=set)
    wake: threading.Event = field(default_factory=threading.Event)
    """Set by the leader-key watch: the current pause ends at once."""
    _last_start: float | None = None
    _stalled_s: float = 0.0
    _stall_grace_until: float = 0.0

    # --- one cycle -----------------------------------------------------------------------

    def tick(self) -> Decision:
        started = time.monotonic()
        self._note_stall(started)
        pending = self.split.start() if self.split is not None else None
        state = self._probe_all()
        view, error = self._read()
        now, mono = self.wall(), self.mono()
        snap = snapshot(view, self._local(state), self.memory, now, mono, error)
        plan = self._plan(decide(snap, self.policy), snap, state, view, pending, now, started)
        decision = plan.decision
        if self.last is None or decision.sentence != self.last.sentence:
            log.info("%s: %s", self.site, decision.sentence)
        self.last, self.last_plan = decision, plan
        self._act(plan, snap)
        if view is not None:
            self._publish(state, now)
        if self.split is not None:
            self.split.report_states(now)
        return decision

    def _plan(
        self,
        decision: Decision,
        snap: Snapshot,
        state: DatabaseState | None,
        view: ClusterView | None,
        pending: Pending | None,
        now: float,
        started: float,
    ) -> Plan:
        """The failover decision alone, or combined with the split-brain resolution."""
        if self.split is None or pending is None:
            steps = DEFAULT_STEPS if decision.action in (Action.FENCE, Action.RELEASE) else ()
            return Plan(decision, steps)
        leader = self._trusted_leader(view)
        up = None if self.database is None else bool(state is not None and state.reachable)
        links = self.split.links(self.seen, up, view, now, self.timings.lease_ttl_s)
        wait_s = started + self.timings.check_timeout_s + 0.5 - time.monotonic()
        result = self.split.cycle(
            pending,
            view,
            links,
            now,
            leader=leader,
            writable_me=None if state is None else state.is_primary,
            wait_s=wait_s,
            row_ttl_s=self.timings.lease_ttl_s,
            lost=self._lost_since(),
        )
        me = self.site
        situation = Situation(
            me=me,
            leading=leader == me,
            leader_present=view is None or view.leader is not None,
            healthy_replica=bool(state is not None and state.reachable and state.in_recovery)
            and self.own.health is not Health.DOWN,
            paused=snap.pause is not None,
            witness=self.database is None,
            override=result.side.override,
            hand_fenced=me in result.side.fenced,
        )
        if result.resolution.warning:
            self._alert_once(result.resolution.warning)
        resolution = after_stall(
            result.resolution,
            me=me,
            leads=situation.leading,
            hand_fenced=situation.hand_fenced,
            stalled_s=self._stalled_s,
            grace_left_s=self._stall_grace_until - started,
        )
        return combine(decision, resolution, situation)

    def _note_stall(self, started: float) -> None:
        """A cycle that starts long after the last one follows a stall (SIGSTOP, a paused VM):
        for a grace, the others' rows may be from while this agent slept (see
        :mod:`drkit.ha.splitbrain.stall`)."""
        t = self.timings
        previous, self._last_start = self._last_start, started
        if previous is None:
            return
        gap = started - previous
        if gap > stall_threshold_s(t.loop_interval_s, t.check_timeout_s, t.dcs_timeout_s):
            self._stalled_s = gap
            self._stall_grace_until = started + grace_s(
                t.loop_interval_s, t.check_timeout_s, t.rise
            )
            log.warning("%s: this agent stalled for %.1f s (no cycle ran)", self.site, gap)

    def _lost_since(self) -> dict[str, float]:
        """Per site I see down (database and agent probes both): since when."""
        assert self.split is not None
        out: dict[str, float] = {}
        for site in set(self.seen) | set(self.split.reach_seen):
            seen = [s for s in (self.seen.get(site), self.split.reach_seen.get(site)) if s]
            if seen and all(s.health is Health.DOWN for s in seen):
                out[site] = min(s.since for s in seen)
        return out

    def _trusted_leader(self, view: ClusterView | None) -> str | None:
        if view is not None:
            return None if view.leader is None else view.leader.site
        deadline = self.memory.lease_deadline_mono
        return self.site if deadline is not None and deadline > self.mono() else None

    def run(self, stop: threading.Event) -> None:
        """Tick every loop interval until ``stop`` is set; a failing tick is logged, not fatal.

        A change of the leader key (etcd deleting an expired lease's key, a new
        holder) ends the wait early: a failover starts as soon as the lease is gone,
        not up to a loop interval later (Patroni's etcd3 watch does the same).
        """
        stop_watch = self.dcs.watch_leader(self.wake.set)
        try:
            while not stop.is_set():
                started = self.mono()
                self.wake.clear()  # a change during the tick wakes the next one at once
                try:
                    self.tick()
                except Exception:
                    log.exception("%s: HA cycle failed; trying again next cycle", self.site)
                self._pause(stop, started)
        finally:
            stop_watch()

    def _pause(self, stop: threading.Event, started: float) -> None:
        """Until the next loop, ``stop``, or a leader change (but at least MIN_PAUSE_S)."""
        stop.wait(MIN_PAUSE_S)
        deadline = started + self.timings.loop_interval_s
        while not stop.is_set():
            remaining = deadline - self.mono()
            if remaining <= 0 or self.wake.wait(min(remaining, STOP_POLL_S)):
                return

    # --- gathering -----------------------------------------------------------------------

    def _probe_all(self) -> DatabaseState | None:
        """Own database and the peers' endpoints at once; none may hold the cycle up long.

        A probe that has not answered within the check timeout counts as
        failed (a frozen server accepts TCP connections and never answers);
        its thread is left to finish on its own.
        """
        timeout = self.timings.check_timeout_s
        agents_n = len(self.split.agent_probes) if self.split is not None else 0
        pool = ThreadPoolExecutor(max_workers=len(self.peers) + agents_n + 1)
        try:
            own = pool.submit(self.database.probe) if self.database is not None else None
            peers = {site: pool.submit(probe, timeout) for site, probe in self.peers.items()}
            deadline = self.mono() + timeout + 0.5
            now = self.wall()
            agents = {}
            if self.split is not None:
                agents = {s: pool.submit(p, timeout) for s, p in self.split.agent_probes.items()}
            for site, future in peers.items():
                result = _result(future, deadline - self.mono(), ProbeResult(False, "timed out"))
                old = self.seen.get(site, CheckState())
                self.seen[site] = step(
                    old, result.ok, now, self.timings.rise, self.timings.fall, result.detail
                )
            for site, future in agents.items():
                result = _result(future, deadline - self.mono(), ProbeResult(False, "timed out"))
                assert self.split is not None
                self.split.saw_agent(site, result, now, self.timings.rise, self.timings.fall)
            down = DatabaseState(reachable=False, error="probe timed out")
            state = _result(own, deadline - self.mono(), down) if own is not None else None
        finally:
            pool.shutdown(wait=False)
        if self.database is not None:
            ok = state is not None and state.reachable
            detail = "" if state is None else state.error or ""
            self.own = step(self.own, ok, now, self.timings.rise, self.timings.fall, detail)
        self.last_state = state
        return state

    def _read(self) -> tuple[ClusterView | None, str]:
        try:
            return self._riding_out(self.dcs.read), ""
        except DCSUnavailable as exc:
            return None, str(exc)

    def _riding_out(self, call: Callable[[], T]) -> T:
        """``call``, and while this agent holds the lease, again until it answers or time is up.

        An etcd leader election (its raft leader died: 1-2 s without a leader)
        must not fence a healthy primary, so the lease holder keeps trying every
        member up to the last moment a call can start and still leave time to
        fence (:meth:`AgentTimings.last_call_mono`); then the last failure is
        raised and the decision fences. An agent without the lease tries once:
        it has nothing to keep, and no automatic action without etcd anyway.
        """
        first = True
        while True:
            try:
                return call()
            except DCSUnavailable as exc:
                deadline = self.memory.lease_deadline_mono
                if deadline is None:
                    raise
                last = self.timings.last_call_mono(deadline)
                if self.mono() + RETRY_PAUSE_S > last:
                    raise
                if first:
                    log.warning(
                        "%s: etcd did not answer (%s); trying again for %.1f s, my lease holds",
                        self.site,
                        exc,
                        last - self.mono(),
                    )
                    first = False
                self.sleep(RETRY_PAUSE_S)

    def _local(self, state: DatabaseState | None) -> Local:
        role = Role.WITNESS if self.database is None else role_of(state)
        lsn = None
        if state is not None and state.reachable:
            lsn = max(
                x
                for x in (state.current_lsn, state.receive_lsn, state.replay_lsn, 0)
                if x is not None
            )
        if self.memory.lease_deadline_mono is None:
            self.memory.leading_since = None
        elif self.memory.leading_since is None:
            self.memory.leading_since = self.wall()
        streaming_to = None
        if state is not None and state.is_primary:
            streaming_to = tuple(sorted(r.name for r in state.replicas if r.state == "streaming"))
            self.memory.streamed.update(streaming_to)
        return Local(
            site=self.site,
            role=role,
            db_healthy=self.own.health is not Health.DOWN and role is not Role.UNKNOWN,
            db_reachable=state is not None and state.reachable,
            lsn=lsn,
            holds_lease=self.memory.lease_deadline_mono is not None,
            lease_deadline_mono=self.memory.lease_deadline_mono,
            fenced=self.memory.fenced,
            streaming_to=streaming_to,
            streamed_before=tuple(sorted(self.memory.streamed)),
            leading_since=self.memory.leading_since,
        )

    def _publish(self, state: DatabaseState | None, now: float) -> None:
        try:
            if self.database is not None:
                healthy = self.own.health is not Health.DOWN
                record = member_record(state, healthy, now, fenced=self.memory.fenced)
                self.dcs.publish(self.site, "member", record)
            targets = {
                site: {"down": s.health is Health.DOWN, "since": s.since, "detail": s.last_detail}
                for site, s in self.seen.items()
            }
            self.dcs.publish(self.site, "observation", {"targets": targets, "published_at": now})
            if self.split is not None and self.split.last is not None:
                self.dcs.publish(self.site, REACH_KIND, self.split.last.reach_row)
        except DCSUnavailable as exc:
            log.warning("%s: cannot publish observations: %s", self.site, exc)

    # --- acting --------------------------------------------------------------------------

    def _act(self, plan: Plan, snap: Snapshot) -> None:
        decision = plan.decision
        handlers: dict[Action, Callable[[Decision, Snapshot], None]] = {
            Action.REFRESH: self._refresh,
            Action.ACQUIRE: self._acquire,
            Action.FAILOVER: self._failover,
            Action.SWITCHOVER: lambda d, s: self._failover(d, s, kind="switchover"),
            Action.DEMOTE: self._demote,
            Action.RELEASE: self._release,
            Action.FENCE: lambda d, s: self.fence(d.sentence),
            Action.ALERT: lambda d, s: self._alert_once(d.sentence),
            Action.RESIGN: self._resign,
            Action.RESUME: self._resume,
        }
        handler = handlers.get(decision.action)
        if handler is not None:
            handler(decision, snap)
        elif decision.action is Action.FOLLOW:
            self.memory.lease_deadline_mono = None
            # another site leads: my fence is history, a rejoin makes me its replica
            self.memory.fenced = False
        self._dcs_alerts(snap.dcs_ok)

    def _dcs_alerts(self, ok: bool) -> None:
        lost = f"{self.site}: etcd unreachable; no automatic action until it answers"
        if not ok:
            self._alert_once(lost)
        elif lost in self._alerted:
            self._alerted.discard(lost)
            self._alert_once(f"{self.site}: etcd answers again")
            self._alerted.discard(f"{self.site}: etcd answers again")

    def _take(self, call: Callable[[str], bool]) -> bool:
        """Acquire or refresh the lease; its deadline counts from when the answered try was sent."""
        sent = self.mono()

        def once() -> bool:
            nonlocal sent
            sent = self.mono()
            return call(self.site)

        try:
            ok = self._riding_out(once)
        except DCSUnavailable as exc:
            log.warning("%s: etcd did not answer: %s", self.site, exc)
            return False
        self.memory.lease_deadline_mono = sent + self.timings.lease_ttl_s if ok else None
        return ok

    def _refresh(self, decision: Decision, snap: Snapshot) -> None:
        if not self._take(self.dcs.refresh_leader):
            if self.memory.lease_deadline_mono is None:
                self.fence("lost the leader lease")
            return
        self._manage_sync(snap)
        alerts = replication_alerts(snap, self.policy)
        for sentence in alerts:
            self._alert_once(sentence)
        # a replica that streams again re-arms its alert for the next time it stops
        self._alerted -= {a for a in self._alerted if a.startswith("replica ")} - set(alerts)

    def _acquire(self, decision: Decision, snap: Snapshot) -> None:
        self._take(self.dcs.acquire_leader)

    def _release(self, decision: Decision, snap: Snapshot) -> None:
        self.fence(decision.sentence)
        try:
            self.dcs.release_leader(self.site)
        except DCSUnavailable as exc:
            log.warning("%s: cannot release the lease: %s", self.site, exc)
        self.memory.lease_deadline_mono = None

    def _resign(self, decision: Decision, snap: Snapshot) -> None:
        """Fenced already: only let the lease go, so a caught-up replica takes over now."""
        try:
            self.dcs.release_leader(self.site)
        except DCSUnavailable as exc:
            log.warning("%s: cannot release the lease: %s", self.site, exc)
        self.memory.lease_deadline_mono = None
        self._alert_once(f"{self.site}: {decision.sentence}")

    def _resume(self, decision: Decision, snap: Snapshot) -> None:
        """Fenced, nobody may take over: renew (or re-take) the lease, promote, open the LB.

        Not a failover (nobody else promoted: the lease was mine all along), so
        nothing is recorded in the history and the anti-flapping period is untouched.
        """
        assert self.database is not None
        take = self.dcs.refresh_leader if snap.leader is not None else self.dcs.acquire_leader
        if not self._take(take):
            log.info("%s: lease lost before resuming; staying fenced", self.site)
            return
        stop = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(stop,), daemon=True)
        keeper.start()
        try:
            self.database.promote(wait_s=self.timings.lease_ttl_s)
            self._open_lb()
        except Exception as exc:
            self._alert_once(f"{self.site}: resuming as primary failed: {exc}")
            log.error("%s: resuming as primary failed: %s", self.site, exc)
            return
        finally:
            stop.set()
            keeper.join()
        self.memory.fenced = False
        self._alert_once(f"{self.site}: {decision.sentence}")
        self._alerted.discard(f"{self.site}: {decision.sentence}")
        self._alerted = {a for a in self._alerted if not a.startswith(f"{self.site} fenced")}

    def _demote(self, decision: Decision, snap: Snapshot) -> None:
        """Switchover, old side: no writes (LB, then demote), publish the final LSN, release."""
        assert self.database is not None and snap.pause is not None
        if self.load_balancer is not None and self.lb_server is not None:
            self.load_balancer.set_state(self.lb_server, AdminState.MAINT)
            self.load_balancer.shutdown_sessions(self.lb_server)
        self.database.demote(self.upstream(snap.pause.switchover_to))
        state = self.database.probe()
        self.last_state = state
        self.dcs.publish(self.site, "member", member_record(state, True, self.wall()))
        self.dcs.release_leader(self.site)
        self.memory.lease_deadline_mono = None

    def _failover(self, decision: Decision, snap: Snapshot, kind: str = "failover") -> None:
        if not self._take(self.dcs.acquire_leader):
            log.info("%s: another site took the lease first", self.site)
            return
        old = snap.last_leader_site
        stop = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(stop,), daemon=True)
        keeper.start()
        try:
            note = self._run_failover(old, decision.sentence)
        except Exception as exc:
            # recorded all the same: a failed attempt arms the anti-flapping period too
            note = f"failed: {exc}"
            self._alert_once(f"{kind} {old} -> {self.site} failed: {exc}")
            log.error("%s: %s failed: %s", self.site, kind, exc)
            failed = True
        else:
            failed = False
        finally:
            stop.set()
            keeper.join()
        if failed:
            # let go: the ordinary rules decide again, and anti-flapping stops a retry storm
            with contextlib.suppress(DCSUnavailable):
                self.dcs.release_leader(self.site)
            self.memory.lease_deadline_mono = None
        record = {
            "at": self.wall(),
            "from": old,
            "to": self.site,
            "reason": decision.sentence,
            "kind": kind,
            "note": note,
        }
        try:
            self.dcs.append_history(record)
        except DCSUnavailable as exc:
            log.warning("%s: failover done but not recorded in etcd: %s", self.site, exc)
        if kind == "switchover":
            self.dcs.set_pause(None)  # the switchover is done: the cluster acts again
        self._alert_once(f"{kind} {old} -> {self.site}: {decision.sentence} ({note})")

    def _run_failover(self, old: str | None, reason: str) -> str:
        if self.failover is not None:
            return self.failover(old, self.site, reason)
        assert self.database is not None
        self.database.promote(wait_s=self.timings.lease_ttl_s)
        self._open_lb()
        return "promoted (no runbook)"

    def _keep_lease(self, stop: threading.Event) -> None:
        while not stop.wait(self.timings.loop_interval_s):
            self._take(self.dcs.refresh_leader)

    def _manage_sync(self, snap: Snapshot) -> None:
        """One step of :func:`~drkit.ha.sync.sync_step` (the sync key, then PostgreSQL)."""
        if not self.policy.synchronous or self.database is None or self.last_state is None:
            return
        state = self.last_state
        reported = state.synchronous_standby_names
        configured = standby_names(
            reported if reported is not None else self.memory.seen.get("sync")
        )
        in_sync = tuple(r.name for r in state.replicas if r.sync_state == "sync")
        wanted = synchronous_standbys(snap, self.policy)
        step = sync_step(self.site, wanted, snap.sync, configured, in_sync)
        if step.op is SyncOp.NONE:
            return
        log.info("%s: %s", self.site, step.sentence)
        if step.op is SyncOp.SET_STANDBYS:
            self.database.set_synchronous_standbys(list(step.names))
            self.memory.seen["sync"] = ", ".join(f'"{n}"' for n in step.names)
            return
        record = {"leader": self.site, "sync_standby": step.standby, "at": self.wall()}
        try:
            if not self.dcs.set_sync(self.site, record):
                log.warning("%s: sync key not written: I no longer lead", self.site)
        except DCSUnavailable as exc:
            log.warning("%s: sync key not written: %s", self.site, exc)

    def fence(self, why: str) -> None:
        """Stop this site taking writes: LB maint + kill sessions, then the database, then DNS.

        Each part is tried even if another fails. The failover's own fence
        stops the database (immediate: the fastest certain way to refuse
        writes); a split-brain fence demotes it to a read-only standby (kept
        up for the divergence report), stopping it when that fails; DNS
        records are withdrawn (pointed at the leader) when the plan says so. The
        steps are this cycle's plan's when it fences, else the failover's own.
        """
        log.warning("%s: fencing: %s", self.site, why)
        plan = self.last_plan
        if plan is not None and plan.decision.action not in (Action.FENCE, Action.RELEASE):
            plan = None
        steps = plan.steps if plan is not None and plan.steps else DEFAULT_STEPS
        if FenceStep.LB_DRAIN in steps and self.load_balancer is not None and self.lb_server:
            try:
                self.load_balancer.set_state(self.lb_server, AdminState.MAINT)
                self.load_balancer.shutdown_sessions(self.lb_server)
            except Exception as exc:  # a fence step never stops the next one
                log.error("%s: load balancer fence failed: %s", self.site, exc)
        if FenceStep.DATABASE_READ_ONLY in steps and self.database is not None:
            self._fence_database(plan)
        if FenceStep.DNS_WITHDRAW in steps and self.split is not None:
            leader = None
            if self.split.last is not None:
                leader = self.split.last.side.leader
                if self.split.last.side.override is not None:
                    leader = self.split.last.side.override.primary
            self.split.withdraw_dns(leader)
        self.memory.fenced = True
        self.memory.lease_deadline_mono = None
        self._alert_once(f"{self.site} fenced itself: {why}")

    def _fence_database(self, plan: Plan | None) -> None:
        assert self.database is not None
        if plan is not None and plan.by != "failover":
            try:
                self.database.demote(None)
                return
            except Exception as exc:
                log.error("%s: demote failed (%s); stopping the database", self.site, exc)
        try:
            self.database.stop(StopMode.IMMEDIATE)
        except Exception as exc:
            log.error("%s: database fence failed: %s", self.site, exc)

    def _open_lb(self) -> None:
        if self.load_balancer is not None and self.lb_server is not None:
            self.load_balancer.set_state(self.lb_server, AdminState.READY)

    def _alert_once(self, sentence: str) -> None:
        if sentence in self._alerted or self.alert is None:
            return
        self._alerted.add(sentence)
        try:
            self.alert(sentence)
        except Exception as exc:
            log.error("%s: alert failed: %s", self.site, exc)
