"""What one HA cycle does: a pure function of a :class:`~drkit.ha.model.Snapshot`.

Patroni's HA loop is the model: each cycle reads one snapshot and returns
one action with a sentence saying why ("no action: I am the healthy
leader"). The agent only gathers the snapshot and carries the action out.

The safety rules, in the order they are checked:

1. A witness never acts; a paused cluster never acts (its leader keeps the lease).
2. Without etcd nobody acts automatically, except that a primary whose lease
   may expire before it could fence fences itself (demote, drain).
3. A writable database whose site does not hold the lease is fenced.
4. A replica fails over only when the lease is gone, a strict majority of
   the old primary's observers see it down (long enough), the last failover
   is outside the anti-flapping period, its lag is within the maximum, it is
   the synchronous standby in synchronous mode, and no better candidate is
   up. The lease is then taken by compare-and-set, so only one can win.
   An old primary whose own fresh record says it fenced itself (and is no
   primary) counts as down: it says so itself, whatever its read-only
   database answers to the observers' probes.
5. A lease holder that fenced itself (the split-brain fence demotes it while
   its lease is still alive; the link comes back before the lease expires)
   never "fails over" to itself: it hands the lease over (``RESIGN``) when a
   caught-up healthy replica may take over, else, as nobody else can have
   promoted while it held the lease, it resumes as primary (``RESUME``,
   no failover recorded) and says why nobody took over.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drkit.ha.model import Member, Role, Snapshot
from drkit.ha.policy import Policy


class Action(StrEnum):
    NONE = "none"
    REFRESH = "refresh"
    ACQUIRE = "acquire"
    FOLLOW = "follow"
    FAILOVER = "failover"
    RELEASE = "release"
    FENCE = "fence"
    ALERT = "alert"
    DEMOTE = "demote"
    """Planned switchover, on the leader: stop writes, demote, release the lease."""
    SWITCHOVER = "switchover"
    """Planned switchover, on the target: take the lease and run the failover runbook."""
    RESIGN = "resign"
    """A lease holder that fenced itself: let the lease go (already fenced) for a hand-over."""
    RESUME = "resume"
    """A lease holder that fenced itself and that nobody may replace: promote again."""


@dataclass(frozen=True)
class Decision:
    action: Action
    sentence: str
    target: str | None = None

    def __str__(self) -> str:
        return self.sentence


def decide(snap: Snapshot, policy: Policy) -> Decision:
    """The one action of this cycle, with the sentence that explains it."""
    me = snap.local
    if me.site in policy.witnesses or me.role is Role.WITNESS:
        return Decision(Action.NONE, "no action: I am a witness, I only vote")
    if snap.pause is not None and snap.pause.switchover_to is not None and snap.dcs_ok:
        return _switchover(snap, policy, snap.pause.switchover_to)
    if snap.pause is not None:
        paused = f"paused by {snap.pause.who}: {snap.pause.reason}"
        leading = snap.leader is not None and snap.leader.site == me.site
        if snap.dcs_ok and leading and me.role is Role.PRIMARY:
            # as Patroni in maintenance mode: the leader keeps its key, nothing else happens
            return Decision(Action.REFRESH, f"no action: {paused}; I keep the lease")
        return Decision(Action.NONE, f"no action: {paused}")
    if not snap.dcs_ok:
        return _without_dcs(snap, policy)
    if snap.leader is not None and snap.leader.site == me.site:
        return _as_leader(snap, policy)
    if snap.leader is not None:
        if me.role is Role.PRIMARY and not me.fenced:
            return Decision(
                Action.FENCE,
                f"fencing {me.site}: {snap.leader.site} holds the lease but my database is "
                "writable",
                target=me.site,
            )
        return Decision(Action.FOLLOW, f"no action: following leader {snap.leader.site}")
    return _without_leader(snap, policy)


def _switchover(snap: Snapshot, policy: Policy, target: str) -> Decision:
    """Planned switchover: demote first, then promote once the target has replayed it all."""
    me = snap.local
    leading = snap.leader is not None and snap.leader.site == me.site
    if leading and me.role is Role.PRIMARY:
        t = snap.member(target)
        if t is None or t.role is not Role.REPLICA or not t.healthy:
            return Decision(
                Action.REFRESH, f"switchover to {target}: waiting, it is no healthy replica"
            )
        lag = None if me.lsn is None or t.lsn is None else max(me.lsn - t.lsn, 0)
        if lag is None or lag > policy.maximum_lag:
            return Decision(
                Action.REFRESH,
                f"switchover to {target}: waiting for it to catch up (lag {lag} bytes)",
            )
        return Decision(
            Action.DEMOTE,
            f"switchover to {target}: demoting {me.site} first (lag {lag} bytes)",
            target=me.site,
        )
    if me.site != target or snap.leader is not None:
        return Decision(Action.NONE, f"no action: switchover to {target} in progress")
    old = snap.member(snap.last_leader_site or "")
    if old is None or old.role is not Role.REPLICA or old.lsn is None:
        return Decision(
            Action.NONE, f"switchover to {target}: waiting for the old primary to demote"
        )
    if me.role is not Role.REPLICA or me.lsn is None or me.lsn < old.lsn:
        return Decision(Action.NONE, f"switchover to {target}: waiting to replay up to {old.lsn}")
    return Decision(
        Action.SWITCHOVER,
        f"switchover: promoting {target}, {old.site} demoted at lsn {old.lsn} and I have it all",
        target=target,
    )


def _without_dcs(snap: Snapshot, policy: Policy) -> Decision:
    me = snap.local
    why = f"etcd unreachable ({snap.dcs_error})" if snap.dcs_error else "etcd unreachable"
    if me.role is not Role.PRIMARY or me.fenced:
        return Decision(Action.NONE, f"no automatic action: {why}")
    remaining = 0.0 if me.lease_deadline_mono is None else me.lease_deadline_mono - snap.mono
    if remaining < policy.fence_budget_s:
        return Decision(
            Action.FENCE,
            f"fencing {me.site}: {why}, my lease may expire in {max(remaining, 0):.1f} s",
            target=me.site,
        )
    return Decision(
        Action.NONE,
        f"no automatic action: {why}; my lease holds {remaining:.1f} s more, "
        f"fencing when under {policy.fence_budget_s:.1f} s",
    )


def _as_leader(snap: Snapshot, policy: Policy) -> Decision:
    me = snap.local
    if me.role is Role.PRIMARY and me.db_healthy:
        return Decision(Action.REFRESH, "no action: I am the healthy leader")
    if me.role is Role.PRIMARY or not me.db_reachable:
        return Decision(
            Action.RELEASE,
            f"releasing the lease and fencing {me.site}: my database is down",
            target=me.site,
        )
    if me.fenced:
        return _fenced_leader(snap, policy)
    return Decision(
        Action.FAILOVER,
        f"resuming failover to {me.site}: I hold the lease but my database is still a replica",
        target=me.site,
    )


def _fenced_leader(snap: Snapshot, policy: Policy) -> Decision:
    """I fenced myself but still hold the lease: hand it over, or serve again if nobody may."""
    me = snap.local
    flap = _recent_failover(snap, policy)
    heir = None if flap is not None else _heir(snap, policy)
    if heir is not None:
        return Decision(
            Action.RESIGN,
            f"releasing the lease: I fenced {me.site} and {heir.site} is a healthy replica "
            f"caught up to {heir.lsn} (mine {me.lsn}) that may take over",
            target=heir.site,
        )
    why = flap or "no healthy caught-up replica may take over"
    return Decision(
        Action.RESUME,
        f"resuming as primary: I fenced {me.site} but still hold the lease, so nobody "
        f"promoted; no hand-over: {why}",
        target=me.site,
    )


def _fenced_without_leader(snap: Snapshot, policy: Policy) -> Decision:
    """I led last and fenced myself, and the lease is gone: stay fenced, unless nobody else
    may take over and I hold the newest data (a clean re-election: take the lease again)."""
    me = snap.local
    stay = "no action: no leader, and I was the primary: I stay fenced"
    if not me.fenced or not me.db_healthy:
        return Decision(Action.NONE, stay)
    history = sorted(snap.history, key=lambda h: h.at)
    if history and history[-1].to_site != me.site:
        return Decision(Action.NONE, f"{stay} ({history[-1].to_site} was promoted after me)")
    newer = [
        m.site
        for m in snap.members
        if m.site != me.site
        and snap.now - m.published_at <= policy.lease_ttl_s
        and m.lsn is not None
        and (me.lsn is None or m.lsn > me.lsn)
    ]
    if newer or me.lsn is None:
        return Decision(Action.NONE, f"{stay} ({', '.join(newer) or 'my lsn unknown'})")
    d = _fenced_leader(snap, policy)
    if d.action is Action.RESIGN:
        return Decision(Action.NONE, f"{stay}: {d.target} may take over")
    return Decision(
        Action.RESUME,
        f"resuming as primary: no leader, I led last, fenced myself and hold the newest data "
        f"(lsn {me.lsn}); no hand-over: {d.sentence.split('no hand-over: ', 1)[-1]}",
        target=me.site,
    )


def _heir(snap: Snapshot, policy: Policy) -> Member | None:
    """The best replica that may take over from me right now (fresh, healthy, caught up)."""
    me = snap.local
    fit = []
    for m in snap.members:
        if m.site == me.site or m.site in policy.witnesses or m.role is not Role.REPLICA:
            continue
        if m.fenced or not m.healthy or snap.now - m.published_at > policy.lease_ttl_s:
            continue
        if policy.priorities.get(m.site, 0) <= 0 or m.lsn is None or me.lsn is None:
            continue
        if me.lsn - m.lsn > policy.maximum_lag:
            continue
        if policy.synchronous and (snap.sync is None or snap.sync.standby != m.site):
            continue
        fit.append(m)
    if not fit:
        return None
    return min(fit, key=lambda m: (-(m.lsn or 0), -policy.priorities.get(m.site, 0), m.site))


def _fenced_itself(snap: Snapshot, policy: Policy, site: str) -> str | None:
    """``site``'s own fresh record says it fenced itself and is no primary: why, else None."""
    m = snap.member(site)
    if m is None or not m.fenced or m.role is Role.PRIMARY:
        return None
    age = snap.now - m.published_at
    if age > policy.lease_ttl_s:
        return None
    return f"{site} fenced itself (its record {max(age, 0):.1f} s old says {m.role.value})"


def _without_leader(snap: Snapshot, policy: Policy) -> Decision:
    me = snap.local
    if me.role is Role.PRIMARY and me.db_healthy and not me.fenced:
        return Decision(
            Action.ACQUIRE,
            "acquiring the lease: no leader and my database is the healthy primary",
            target=me.site,
        )
    if me.role is not Role.REPLICA or not me.db_reachable:
        return Decision(Action.NONE, "no action: no leader, and my database is not a replica")
    old = snap.last_leader_site
    if old is None:
        return Decision(Action.NONE, "no action: no leader and no previous primary known")
    if old == me.site:  # a fenced old primary never "fails over" to itself
        return _fenced_without_leader(snap, policy)
    return _failover_checks(snap, policy, old)


def _failover_checks(snap: Snapshot, policy: Policy, old: str) -> Decision:
    me = snap.local
    gone = _ago(snap.now, snap.leader_gone_since)
    flap = _recent_failover(snap, policy)
    if flap is not None:
        return Decision(Action.ALERT, f"no failover: {flap}")
    agree, needed, total = _agreement(snap, policy, old)
    fenced = _fenced_itself(snap, policy, old)
    if fenced is not None:
        evidence = f"{fenced}, {agree} of {total} observers see it down"
    else:
        evidence = f"{agree} of {total} observers see it down"
    if agree < needed and fenced is None:
        return Decision(
            Action.NONE,
            f"no failover: {old} lease expired{gone} but only {agree} of {total} observers "
            f"see it down ({needed} needed)",
        )
    lag = _lag(snap)
    if lag is not None and lag > policy.maximum_lag:
        return Decision(
            Action.ALERT,
            f"no failover: {old} is down but my lag {lag} bytes is past "
            f"maximum_lag_on_failover {policy.maximum_lag} bytes",
        )
    refusal = _not_a_candidate(snap, policy)
    if refusal is not None:
        return Decision(Action.NONE, f"no failover: {refusal}")
    lag_text = "unknown" if lag is None else f"{lag} bytes"
    return Decision(
        Action.FAILOVER,
        f"promoting {me.site}: {old} lease expired{gone}, {evidence}, lag {lag_text}",
        target=me.site,
    )


def _ago(now: float, since: float | None) -> str:
    return "" if since is None else f" {max(now - since, 0):.1f} s ago"


def _recent_failover(snap: Snapshot, policy: Policy) -> str | None:
    automatic = [h for h in snap.history if h.kind == "failover"]
    if not automatic:
        return None
    last = max(automatic, key=lambda h: h.at)
    age = snap.now - last.at
    if age >= policy.anti_flapping_s:
        return None
    return (
        f"last failover {age:.0f} s ago ({last.from_site} -> {last.to_site}) is inside the "
        f"{policy.anti_flapping_s:.0f} s anti-flapping period"
    )


def _agreement(snap: Snapshot, policy: Policy, target: str) -> tuple[int, int, int]:
    """(observers that see ``target`` down long enough, how many are needed, how many exist)."""
    voters = set(policy.observers.get(target, ()))
    agree = {
        o.observer
        for o in snap.observations
        if o.target == target
        and o.observer in voters
        and o.down
        and snap.now - o.published_at <= policy.lease_ttl_s
        and snap.now - o.since >= policy.confirm_down_s
    }
    return len(agree), policy.quorum(target), len(voters)


def _lag(snap: Snapshot) -> int | None:
    me = snap.local
    if snap.last_leader_lsn is not None and me.lsn is not None:
        return max(snap.last_leader_lsn - me.lsn, 0)
    mine = snap.member(me.site)
    return None if mine is None else mine.lag_bytes


def _not_a_candidate(snap: Snapshot, policy: Policy) -> str | None:
    me = snap.local
    if policy.priorities.get(me.site, 0) <= 0:
        return f"{me.site} has priority 0 and never becomes primary"
    if policy.synchronous:
        # the sync key in etcd, not this agent's memory: it outlives the leader and a restart
        sync = None if snap.sync is None else snap.sync.standby
        if sync != me.site:
            name = sync or "none recorded"
            by = "" if snap.sync is None else f" (sync key written by {snap.sync.leader})"
            return f"synchronous mode, and the synchronous standby is {name}{by}"
    better = _better_candidate(snap, policy)
    if better is not None:
        return (
            f"{better.site} is a better candidate (lag {better.lag_bytes} bytes, priority "
            f"{policy.priorities.get(better.site, 0)})"
        )
    return None


def _better_candidate(snap: Snapshot, policy: Policy) -> Member | None:
    me = snap.local
    my_lag = _lag(snap) or 0
    mine = (my_lag, -policy.priorities.get(me.site, 0), me.site)
    for m in snap.members:
        if m.site == me.site or m.site in policy.witnesses or m.role is not Role.REPLICA:
            continue
        if m.fenced:  # an old primary that fenced itself is no candidate
            continue
        if not m.healthy or snap.now - m.published_at > policy.lease_ttl_s:
            continue
        if policy.priorities.get(m.site, 0) <= 0 or m.lag_bytes is None:
            continue
        if m.lag_bytes > policy.maximum_lag:
            continue
        if (m.lag_bytes, -policy.priorities.get(m.site, 0), m.site) < mine:
            return m
    return None


def synchronous_standbys(snap: Snapshot, policy: Policy) -> tuple[str, ...]:
    """The leader's choice for ``synchronous_standby_names``: the best streaming replica.

    Outside synchronous mode: none. A standby is named by its site (the
    replica's ``application_name``).
    """
    if not policy.synchronous:
        return ()
    ready = [
        m
        for m in snap.members
        if m.role is Role.REPLICA
        and m.streaming
        and m.healthy
        and m.site not in policy.witnesses
        and snap.now - m.published_at <= policy.lease_ttl_s
    ]
    if not ready:
        return ()
    best = min(ready, key=lambda m: (not m.sync_standby, -policy.priorities.get(m.site, 0), m.site))
    return (best.site,)


def replication_alerts(snap: Snapshot, policy: Policy) -> tuple[str, ...]:
    """For the leader: a sentence per replica that stopped streaming or lags too much.

    A replica's own fresh record says how it streams. A replica whose record is
    gone or stale (its site dropped out: the record expires with its lease) is
    judged by the primary's own view, pg_stat_replication: one that streamed
    from this primary before and is not streaming now is not streaming; one it
    has never seen stream, one lease after it began to lead, never connected.
    """
    me = snap.local
    out = []
    known = [m.site for m in snap.members]
    sites = known + sorted(s for s in policy.priorities if s not in known)
    for site in sites:
        if site == me.site or site in policy.witnesses:
            continue
        m = snap.member(site)
        fresh = m is not None and snap.now - m.published_at <= policy.lease_ttl_s
        if m is not None and (fresh or me.streaming_to is None):
            out += _replica_alert(m, policy)
        elif _dropped(me.streaming_to, me.streamed_before, site):
            out.append(
                f"replica {site} is not streaming from the primary (no fresh record from its "
                "agent, and not in the primary's pg_stat_replication)"
            )
        elif _never_streamed(snap, policy, site):
            out.append(
                f"replica {site} has never streamed from the primary in over "
                f"{policy.lease_ttl_s:g} s of its lead (no record from its agent, never in the "
                "primary's pg_stat_replication)"
            )
    return tuple(out)


def _never_streamed(snap: Snapshot, policy: Policy, site: str) -> bool:
    """The primary has led past one lease (a replica may take that long to connect after a
    start) and never saw ``site`` stream."""
    me = snap.local
    if me.streaming_to is None or me.leading_since is None:
        return False
    if site in me.streaming_to or site in me.streamed_before:
        return False
    return snap.now - me.leading_since > policy.lease_ttl_s


def _dropped(streaming: tuple[str, ...] | None, before: tuple[str, ...], site: str) -> bool:
    """The primary saw ``site`` stream before and does not now (None: it cannot tell)."""
    return streaming is not None and site in before and site not in streaming


def _replica_alert(m: Member, policy: Policy) -> list[str]:
    if m.role is not Role.REPLICA:
        return []
    if not m.streaming:
        return [f"replica {m.site} is not streaming from the primary"]
    if m.lag_bytes is not None and m.lag_bytes > policy.lag_alert_bytes:
        return [
            f"replica {m.site} lags {m.lag_bytes} bytes (alert above "
            f"{policy.lag_alert_bytes} bytes)"
        ]
    return []
