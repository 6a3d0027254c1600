"""decide(): one table of cluster snapshots, each with the action and the sentence it must give."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drkit.ha.decide import Action, decide, replication_alerts, synchronous_standbys
from drkit.ha.model import (
    FailoverRecord,
    Leader,
    Local,
    Member,
    Observation,
    Pause,
    Role,
    Snapshot,
    SyncKey,
)
from drkit.ha.policy import Policy

NOW = 1000.0
POLICY = Policy(
    observers={
        "east": ("west", "witness"),
        "west": ("east", "witness"),
        "witness": ("east", "west"),
    },
    priorities={"east": 100, "west": 50},
    witnesses=frozenset({"witness"}),
    lease_ttl_s=8.0,
    fence_budget_s=5.0,
    confirm_down_s=2.0,
    maximum_lag=1048576,
    synchronous=False,
    anti_flapping_s=600.0,
)
THREE = replace(
    POLICY,
    observers={
        "east": ("west", "west2", "witness"),
        "west": ("east", "west2", "witness"),
        "west2": ("east", "west", "witness"),
    },
    priorities={"east": 100, "west": 50, "west2": 80},
)

PRIMARY = Local(
    "east",
    Role.PRIMARY,
    db_healthy=True,
    db_reachable=True,
    lsn=5000,
    holds_lease=True,
    lease_deadline_mono=108.0,
)
REPLICA = Local("west", Role.REPLICA, db_healthy=True, db_reachable=True, lsn=5000)


def down(
    observer: str, target: str = "east", since: float = NOW - 3, at: float = NOW
) -> Observation:
    return Observation(observer, target, down=True, since=since, published_at=at)


def up(observer: str, target: str = "east") -> Observation:
    return Observation(observer, target, down=False, since=NOW - 100, published_at=NOW)


def member(
    site: str, lag: int = 0, healthy: bool = True, sync: bool = False, streaming: bool = True
) -> Member:
    return Member(
        site,
        Role.REPLICA,
        healthy=healthy,
        published_at=NOW,
        lsn=5000 - lag,
        lag_bytes=lag,
        streaming=streaming,
        sync_standby=sync,
    )


BASE = Snapshot(now=NOW, mono=100.0, local=PRIMARY, dcs_ok=True, leader=Leader("east"))
LEADERLESS = Snapshot(
    now=NOW,
    mono=100.0,
    local=REPLICA,
    dcs_ok=True,
    leader=None,
    observations=(down("west"), down("witness")),
    last_leader_site="east",
    last_leader_lsn=5000,
    leader_gone_since=NOW - 2.1,
    members=(member("west"),),
)

SWITCH = Pause("ann", "switchover to west", NOW, switchover_to="west")
DEMOTED = Member("east", Role.REPLICA, healthy=True, published_at=NOW, lsn=5000)

CASES: list[tuple[str, Snapshot, Policy, Action, str]] = [
    (
        "switchover: leader demotes once the target caught up",
        replace(BASE, pause=SWITCH, members=(member("west"),)),
        POLICY,
        Action.DEMOTE,
        "switchover to west: demoting east first (lag 0 bytes)",
    ),
    (
        "switchover: leader waits for a lagging target",
        replace(BASE, pause=SWITCH, members=(member("west", lag=2_000_000),)),
        POLICY,
        Action.REFRESH,
        "waiting for it to catch up (lag 2000000 bytes)",
    ),
    (
        "switchover: leader waits for a target without agent",
        replace(BASE, pause=SWITCH),
        POLICY,
        Action.REFRESH,
        "it is no healthy replica",
    ),
    (
        "switchover: target waits while the leader holds the lease",
        replace(BASE, pause=SWITCH, local=REPLICA),
        POLICY,
        Action.NONE,
        "in progress",
    ),
    (
        "switchover: target promotes once the old primary demoted and it replayed all",
        replace(LEADERLESS, pause=SWITCH, members=(DEMOTED,)),
        POLICY,
        Action.SWITCHOVER,
        "switchover: promoting west, east demoted at lsn 5000 and I have it all",
    ),
    (
        "switchover: target waits to replay",
        replace(LEADERLESS, pause=SWITCH, members=(DEMOTED,), local=replace(REPLICA, lsn=4000)),
        POLICY,
        Action.NONE,
        "waiting to replay up to 5000",
    ),
    (
        "switchover: target waits for the demotion",
        replace(LEADERLESS, pause=SWITCH, members=(replace(DEMOTED, role=Role.PRIMARY),)),
        POLICY,
        Action.NONE,
        "waiting for the old primary to demote",
    ),
    (
        "switchover: other sites do nothing",
        replace(LEADERLESS, pause=SWITCH, members=(DEMOTED,), local=replace(REPLICA, site="west2")),
        POLICY,
        Action.NONE,
        "switchover to west in progress",
    ),
    (
        "switchover without etcd: fencing rules apply",
        replace(BASE, pause=SWITCH, dcs_ok=False),
        POLICY,
        Action.NONE,
        "paused by ann",
    ),
    (
        "healthy leader refreshes",
        BASE,
        POLICY,
        Action.REFRESH,
        "no action: I am the healthy leader",
    ),
    (
        "replica follows",
        replace(BASE, local=REPLICA),
        POLICY,
        Action.FOLLOW,
        "no action: following leader east",
    ),
    (
        "witness never acts",
        replace(LEADERLESS, local=replace(REPLICA, site="witness")),
        POLICY,
        Action.NONE,
        "no action: I am a witness, I only vote",
    ),
    (
        "witness role never acts",
        replace(LEADERLESS, local=replace(REPLICA, role=Role.WITNESS)),
        POLICY,
        Action.NONE,
        "no action: I am a witness",
    ),
    (
        "paused: no failover",
        replace(LEADERLESS, pause=Pause("ops", "upgrade", NOW)),
        POLICY,
        Action.NONE,
        "no action: paused by ops: upgrade",
    ),
    (
        "paused: the leader keeps its lease",
        replace(BASE, pause=Pause("ops", "upgrade", NOW)),
        POLICY,
        Action.REFRESH,
        "no action: paused by ops: upgrade; I keep the lease",
    ),
    (
        "paused: a sick leader is not released",
        replace(BASE, pause=Pause("ops", "x", NOW), local=replace(PRIMARY, db_healthy=False)),
        POLICY,
        Action.REFRESH,
        "I keep the lease",
    ),
    (
        "paused: a writable non-leader is not fenced",
        replace(BASE, leader=Leader("west"), pause=Pause("ops", "x", NOW)),
        POLICY,
        Action.NONE,
        "paused by ops",
    ),
    (
        "paused: no fencing without etcd",
        replace(BASE, dcs_ok=False, pause=Pause("a", "b", NOW)),
        POLICY,
        Action.NONE,
        "paused by a",
    ),
    (
        "failover: lease gone, quorum agrees",
        LEADERLESS,
        POLICY,
        Action.FAILOVER,
        "promoting west: east lease expired 2.1 s ago, 2 of 2 observers see it down, lag 0 bytes",
    ),
    (
        "one observer's broken network",
        replace(LEADERLESS, observations=(down("west"), up("witness"))),
        POLICY,
        Action.NONE,
        "no failover: east lease expired 2.1 s ago but only 1 of 2 observers see it down "
        "(2 needed)",
    ),
    (
        "observers see it down, but the lease is held (3 s freeze)",
        replace(LEADERLESS, local=REPLICA, leader=Leader("east")),
        POLICY,
        Action.FOLLOW,
        "following leader east",
    ),
    (
        "down too briefly",
        replace(
            LEADERLESS, observations=(down("west", since=NOW - 1), down("witness", since=NOW - 1))
        ),
        POLICY,
        Action.NONE,
        "only 0 of 2 observers",
    ),
    (
        "stale observations do not count",
        replace(LEADERLESS, observations=(down("west"), down("witness", at=NOW - 20))),
        POLICY,
        Action.NONE,
        "only 1 of 2",
    ),
    (
        "the primary's own vote does not count",
        replace(LEADERLESS, observations=(down("west"), down("east"))),
        POLICY,
        Action.NONE,
        "only 1 of 2",
    ),
    (
        "lag past the maximum: alert, no failover",
        replace(LEADERLESS, local=replace(REPLICA, lsn=5000 - 2_000_000), last_leader_lsn=5000),
        POLICY,
        Action.ALERT,
        "no failover: east is down but my lag 2000000 bytes is past maximum_lag_on_failover "
        "1048576 bytes",
    ),
    (
        "anti-flapping window",
        replace(LEADERLESS, history=(FailoverRecord(NOW - 42, "west", "east", "x"),)),
        POLICY,
        Action.ALERT,
        "no failover: last failover 42 s ago (west -> east) is inside the 600 s anti-flapping "
        "period",
    ),
    (
        "an old failover does not block",
        replace(LEADERLESS, history=(FailoverRecord(NOW - 4000, "west", "east", "x"),)),
        POLICY,
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "a switchover does not count as flapping",
        replace(
            LEADERLESS, history=(FailoverRecord(NOW - 42, "west", "east", "x", kind="switchover"),)
        ),
        POLICY,
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "synchronous mode: the sync key names another standby",
        replace(
            LEADERLESS,
            members=(member("west"), member("west2", sync=True)),
            sync=SyncKey("east", "west2"),
        ),
        replace(POLICY, synchronous=True),
        Action.NONE,
        "no failover: synchronous mode, and the synchronous standby is west2 (sync key "
        "written by east)",
    ),
    (
        "synchronous mode: the standby the sync key names promotes",
        replace(LEADERLESS, members=(member("west", sync=True),), sync=SyncKey("east", "west")),
        replace(POLICY, synchronous=True),
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "synchronous mode: the sync key names it, even with no member record left",
        replace(LEADERLESS, members=(), sync=SyncKey("east", "west")),
        replace(POLICY, synchronous=True),
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "synchronous mode: the sync key names none (the leader was changing it)",
        replace(LEADERLESS, members=(member("west"),), sync=SyncKey("east", None)),
        replace(POLICY, synchronous=True),
        Action.NONE,
        "no failover: synchronous mode, and the synchronous standby is none recorded (sync key "
        "written by east)",
    ),
    (
        "synchronous mode: no sync key at all",
        LEADERLESS,
        replace(POLICY, synchronous=True),
        Action.NONE,
        "no failover: synchronous mode, and the synchronous standby is none recorded",
    ),
    (
        "synchronous mode: the key named west but its lag is past the maximum",
        replace(
            LEADERLESS,
            local=replace(REPLICA, lsn=1000),
            last_leader_lsn=1000 + 2 * 1048576,
            sync=SyncKey("east", "west"),
        ),
        replace(POLICY, synchronous=True),
        Action.ALERT,
        "past maximum_lag_on_failover",
    ),
    (
        "not synchronous mode: the sync key does not matter",
        replace(LEADERLESS, sync=SyncKey("east", "west2")),
        POLICY,
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "better candidate by lag",
        replace(
            LEADERLESS,
            local=replace(REPLICA, lsn=4000),
            members=(member("west", lag=1000), member("west2")),
            observations=(down("west"), down("west2"), down("witness")),
        ),
        THREE,
        Action.NONE,
        "no failover: west2 is a better candidate (lag 0 bytes, priority 80)",
    ),
    (
        "better candidate by priority",
        replace(
            LEADERLESS,
            members=(member("west"), member("west2")),
            observations=(down("west"), down("west2"), down("witness")),
        ),
        THREE,
        Action.NONE,
        "west2 is a better candidate",
    ),
    (
        "unhealthy better candidate is ignored",
        replace(
            LEADERLESS,
            members=(member("west"), member("west2", healthy=False)),
            observations=(down("west"), down("west2")),
        ),
        THREE,
        Action.FAILOVER,
        "promoting west: east lease expired 2.1 s ago, 2 of 3 observers",
    ),
    (
        "candidate past max lag is ignored",
        replace(
            LEADERLESS,
            members=(member("west"), member("west2", lag=2_000_000)),
            observations=(down("west"), down("west2")),
        ),
        THREE,
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "priority 0 never promotes",
        LEADERLESS,
        replace(POLICY, priorities={"east": 1, "west": 0}),
        Action.NONE,
        "west has priority 0",
    ),
    (
        "no previous primary known",
        replace(LEADERLESS, last_leader_site=None),
        POLICY,
        Action.NONE,
        "no previous primary known",
    ),
    (
        "replica with its database down does nothing",
        replace(LEADERLESS, local=replace(REPLICA, db_reachable=False, role=Role.UNKNOWN)),
        POLICY,
        Action.NONE,
        "my database is not a replica",
    ),
    (
        "no leader, I am the healthy primary: acquire",
        replace(BASE, leader=None, local=replace(PRIMARY, holds_lease=False)),
        POLICY,
        Action.ACQUIRE,
        "acquiring the lease",
    ),
    (
        "no leader, fenced primary does not acquire",
        replace(BASE, leader=None, local=replace(PRIMARY, fenced=True)),
        POLICY,
        Action.NONE,
        "not a replica",
    ),
    (
        "leader whose database died releases and fences",
        replace(BASE, local=replace(PRIMARY, db_healthy=False)),
        POLICY,
        Action.RELEASE,
        "releasing the lease and fencing east: my database is down",
    ),
    (
        "leader whose database is unreachable releases",
        replace(
            BASE, local=replace(PRIMARY, role=Role.UNKNOWN, db_reachable=False, db_healthy=False)
        ),
        POLICY,
        Action.RELEASE,
        "releasing",
    ),
    (
        "lease holder still replica resumes failover",
        replace(BASE, local=replace(REPLICA, site="east")),
        POLICY,
        Action.FAILOVER,
        "resuming failover",
    ),
    (
        "woken old primary, other site leads: fence",
        replace(BASE, leader=Leader("west")),
        POLICY,
        Action.FENCE,
        "fencing east: west holds the lease but my database is writable",
    ),
    (
        "fenced old primary, other site leads: follow",
        replace(BASE, leader=Leader("west"), local=replace(PRIMARY, fenced=True)),
        POLICY,
        Action.FOLLOW,
        "following leader west",
    ),
    (
        "etcd down, replica: nothing",
        replace(LEADERLESS, dcs_ok=False, dcs_error="connection refused"),
        POLICY,
        Action.NONE,
        "no automatic action: etcd unreachable (connection refused)",
    ),
    (
        "etcd down, primary with time left: nothing yet",
        replace(BASE, dcs_ok=False),
        POLICY,
        Action.NONE,
        "no automatic action: etcd unreachable; my lease holds 8.0 s more, fencing when under "
        "5.0 s",
    ),
    (
        "etcd down, primary near its deadline: fence",
        replace(BASE, dcs_ok=False, mono=104.0),
        POLICY,
        Action.FENCE,
        "fencing east: etcd unreachable, my lease may expire in 4.0 s",
    ),
    (
        "etcd down after a 60 s freeze: fence at once",
        replace(BASE, dcs_ok=False, mono=160.0),
        POLICY,
        Action.FENCE,
        "my lease may expire in 0.0 s",
    ),
    (
        "etcd down, primary never had a lease: fence",
        replace(BASE, dcs_ok=False, local=replace(PRIMARY, lease_deadline_mono=None)),
        POLICY,
        Action.FENCE,
        "fencing east",
    ),
    (
        "etcd down, already fenced: nothing",
        replace(BASE, dcs_ok=False, mono=160.0, local=replace(PRIMARY, fenced=True)),
        POLICY,
        Action.NONE,
        "no automatic action",
    ),
]


@pytest.mark.parametrize(
    ("snap", "policy", "action", "sentence"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decide(snap: Snapshot, policy: Policy, action: Action, sentence: str) -> None:
    decision = decide(snap, policy)
    assert decision.action is action, decision.sentence
    assert sentence in decision.sentence


def test_failover_targets_the_deciding_site() -> None:
    assert decide(LEADERLESS, POLICY).target == "west"


def test_quorum_is_a_strict_majority() -> None:
    assert POLICY.quorum("east") == 2
    assert THREE.quorum("east") == 2
    assert replace(POLICY, observers={"east": ("a", "b", "c", "d")}).quorum("east") == 3


def test_synchronous_standby_choice() -> None:
    sync = replace(POLICY, synchronous=True)
    snap = replace(BASE, members=(member("west"), member("west2", streaming=False)))
    assert synchronous_standbys(snap, sync) == ("west",)
    assert synchronous_standbys(snap, POLICY) == ()
    lost = replace(BASE, members=(member("west", streaming=False),))
    assert synchronous_standbys(lost, sync) == ()


def test_replication_alerts() -> None:
    snap = replace(
        BASE,
        members=(
            member("west", lag=20 * 1048576),
            member("west2", streaming=False),
            member("west3", lag=10),
        ),
    )
    assert replication_alerts(snap, POLICY) == (
        "replica west lags 20971520 bytes (alert above 16777216 bytes)",
        "replica west2 is not streaming from the primary",
    )


def test_a_replica_that_dropped_out_is_seen_by_the_primary() -> None:
    """West's record expired with its lease: the primary's pg_stat_replication tells."""
    streamed = replace(PRIMARY, streaming_to=(), streamed_before=("west",))
    assert replication_alerts(replace(BASE, local=streamed), POLICY) == (
        "replica west is not streaming from the primary (no fresh record from its agent, and "
        "not in the primary's pg_stat_replication)",
    )
    stale = replace(BASE, local=streamed, members=(replace(member("west"), published_at=NOW - 30),))
    assert replication_alerts(stale, POLICY) == (
        "replica west is not streaming from the primary (no fresh record from its agent, and "
        "not in the primary's pg_stat_replication)",
    )


def test_a_replica_that_never_streamed_is_flagged_one_lease_after_leading_began() -> None:
    never = replace(PRIMARY, streaming_to=(), streamed_before=(), leading_since=NOW - 30)
    assert replication_alerts(replace(BASE, local=never), POLICY) == (
        "replica west has never streamed from the primary in over 8 s of its lead (no record "
        "from its agent, never in the primary's pg_stat_replication)",
    )
    starting = replace(never, leading_since=NOW - POLICY.lease_ttl_s + 1)  # may still connect
    assert replication_alerts(replace(BASE, local=starting), POLICY) == ()
    streams = replace(never, streaming_to=("west",), streamed_before=("west",))
    assert replication_alerts(replace(BASE, local=streams), POLICY) == ()


def test_no_dropped_replica_alert_when_nothing_says_so() -> None:
    for local in (
        replace(PRIMARY, streaming_to=("west",), streamed_before=("west",)),  # still streams
        replace(PRIMARY, streaming_to=(), streamed_before=()),  # never streamed (start-up)
        replace(PRIMARY, streaming_to=None, streamed_before=("west",)),  # cannot tell
    ):
        assert replication_alerts(replace(BASE, local=local), POLICY) == (), local
    fresh = replace(BASE, local=replace(PRIMARY, streaming_to=(), streamed_before=("west",)))
    assert replication_alerts(replace(fresh, members=(member("west"),)), POLICY) == ()
