"""A lease holder that fenced itself never fails over to itself (the flapping-link defect).

Seen in the flapping scenario (tests/integration/ha/partitions): east, demoted by the
split-brain fence while its lease was alive, took "resuming failover to east" when the
link came back, a failover east -> east on every flap, and the anti-flapping period then
blocked west. The rule: hand the lease over to a caught-up replica (RESIGN, and the
replica's failover counts east's own fresh "fenced" record as east being down), or, when
nobody may take over, serve again (RESUME, no failover recorded).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from drkit.ha.decide import Action, decide
from drkit.ha.model import FailoverRecord, Leader, Member, Role, Snapshot, SyncKey
from drkit.ha.policy import Policy
from tests.unit.ha.test_decide import BASE, LEADERLESS, NOW, POLICY, REPLICA, member, up

FENCED_EAST = replace(REPLICA, site="east", fenced=True)
"""East's own view after the split-brain fence: a read-only standby, lease still its own."""
HOLDER = replace(BASE, local=FENCED_EAST, members=(member("west"),))
RECENT = (FailoverRecord(NOW - 42, "west", "east", "x"),)
RECENT_TO_EAST = RECENT
EAST_SAYS_FENCED = Member(
    "east", Role.REPLICA, healthy=True, published_at=NOW, lsn=5000, fenced=True
)
SEEN_UP = replace(LEADERLESS, observations=(up("west"), up("witness")))
"""West after east resigned: the observers still reach east's read-only database."""

CASES: list[tuple[str, Snapshot, Policy, Action, str]] = [
    (
        "fenced holder, caught-up replica: hand the lease over",
        HOLDER,
        POLICY,
        Action.RESIGN,
        "releasing the lease: I fenced east and west is a healthy replica caught up to 5000",
    ),
    (
        "fenced holder, anti-flapping period: serve again",
        replace(HOLDER, history=RECENT),
        POLICY,
        Action.RESUME,
        "resuming as primary: I fenced east but still hold the lease, so nobody promoted; no "
        "hand-over: last failover 42 s ago (west -> east) is inside the 600 s anti-flapping",
    ),
    (
        "fenced holder, replica lags too much: serve again",
        replace(HOLDER, members=(member("west", lag=2_000_000),)),
        POLICY,
        Action.RESUME,
        "no healthy caught-up replica may take over",
    ),
    (
        "fenced holder, replica unhealthy: serve again",
        replace(HOLDER, members=(member("west", healthy=False),)),
        POLICY,
        Action.RESUME,
        "no healthy caught-up replica",
    ),
    (
        "fenced holder, replica record stale: serve again",
        replace(HOLDER, members=(replace(member("west"), published_at=NOW - 60),)),
        POLICY,
        Action.RESUME,
        "no healthy caught-up replica",
    ),
    (
        "fenced holder, replica of priority 0: serve again",
        HOLDER,
        replace(POLICY, priorities={"east": 100, "west": 0}),
        Action.RESUME,
        "no healthy caught-up replica",
    ),
    (
        "fenced holder, synchronous mode, west not the sync standby: serve again",
        replace(HOLDER, sync=SyncKey("east", None)),
        replace(POLICY, synchronous=True),
        Action.RESUME,
        "no healthy caught-up replica",
    ),
    (
        "fenced holder, synchronous mode, west the sync standby: hand over",
        replace(HOLDER, sync=SyncKey("east", "west")),
        replace(POLICY, synchronous=True),
        Action.RESIGN,
        "west is a healthy replica",
    ),
    (
        "holder not fenced, still a replica: its own failover resumes",
        replace(HOLDER, local=replace(FENCED_EAST, fenced=False)),
        POLICY,
        Action.FAILOVER,
        "resuming failover to east",
    ),
    (
        "fenced holder whose database is down: release (and fence)",
        replace(HOLDER, local=replace(FENCED_EAST, role=Role.UNKNOWN, db_reachable=False)),
        POLICY,
        Action.RELEASE,
        "my database is down",
    ),
    (
        "fenced, another site leads: follow, nothing else",
        replace(HOLDER, leader=Leader("west")),
        POLICY,
        Action.FOLLOW,
        "following leader west",
    ),
    (
        "fenced old primary, no leader, west caught up: stays fenced for west",
        replace(LEADERLESS, local=FENCED_EAST),
        POLICY,
        Action.NONE,
        "I stay fenced: west may take over",
    ),
    (
        "fenced old primary, no leader, nobody else may: takes the lease again",
        replace(LEADERLESS, local=FENCED_EAST, members=(), history=RECENT_TO_EAST),
        POLICY,
        Action.RESUME,
        "resuming as primary: no leader, I led last, fenced myself and hold the newest data "
        "(lsn 5000); no hand-over: last failover 42 s ago (west -> east)",
    ),
    (
        "fenced old primary, no leader, anti-flapping holds west: takes the lease again",
        replace(LEADERLESS, local=FENCED_EAST, history=RECENT_TO_EAST),
        POLICY,
        Action.RESUME,
        "inside the 600 s anti-flapping period",
    ),
    (
        "fenced old primary, no leader, west has newer data: stays fenced",
        replace(LEADERLESS, local=FENCED_EAST, members=(member("west", lag=-10),), history=RECENT),
        POLICY,
        Action.NONE,
        "I stay fenced",
    ),
    (
        "fenced old primary, no leader, someone was promoted after me: stays fenced",
        replace(
            LEADERLESS,
            local=FENCED_EAST,
            members=(),
            history=(FailoverRecord(NOW - 42, "east", "west", "x"),),
        ),
        POLICY,
        Action.NONE,
        "(west was promoted after me)",
    ),
    (
        "old primary not fenced by itself, no leader: stays",
        replace(LEADERLESS, local=replace(FENCED_EAST, fenced=False), members=()),
        POLICY,
        Action.NONE,
        "I stay fenced",
    ),
    (
        "west after east resigned: east's own fenced record counts as down",
        replace(SEEN_UP, members=(member("west"), EAST_SAYS_FENCED)),
        POLICY,
        Action.FAILOVER,
        "promoting west: east lease expired 2.1 s ago, east fenced itself (its record 0.0 s old "
        "says replica), 0 of 2 observers see it down, lag 0 bytes",
    ),
    (
        "west after east resigned: the fenced east (priority 100, lag 0) is no better candidate",
        replace(SEEN_UP, members=(member("west"), replace(EAST_SAYS_FENCED, lag_bytes=0))),
        POLICY,
        Action.FAILOVER,
        "promoting west",
    ),
    (
        "fenced holder: another fenced replica is no heir",
        replace(HOLDER, members=(replace(member("west"), fenced=True),)),
        POLICY,
        Action.RESUME,
        "no healthy caught-up replica",
    ),
    (
        "east's fenced record is stale: the observers decide (up: nothing)",
        replace(
            SEEN_UP, members=(member("west"), replace(EAST_SAYS_FENCED, published_at=NOW - 60))
        ),
        POLICY,
        Action.NONE,
        "only 0 of 2 observers see it down",
    ),
    (
        "east says fenced but is a primary: not believed",
        replace(SEEN_UP, members=(member("west"), replace(EAST_SAYS_FENCED, role=Role.PRIMARY))),
        POLICY,
        Action.NONE,
        "only 0 of 2 observers see it down",
    ),
    (
        "east fenced, anti-flapping still holds west back",
        replace(SEEN_UP, members=(member("west"), EAST_SAYS_FENCED), history=RECENT),
        POLICY,
        Action.ALERT,
        "inside the 600 s anti-flapping period",
    ),
    (
        "east fenced, west lags too much: no failover",
        replace(
            SEEN_UP, members=(member("west"), EAST_SAYS_FENCED), last_leader_lsn=5000 + 2_000_000
        ),
        POLICY,
        Action.ALERT,
        "past maximum_lag_on_failover",
    ),
]


@pytest.mark.parametrize(
    ("snap", "policy", "action", "sentence"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_fenced_leader(snap: Snapshot, policy: Policy, action: Action, sentence: str) -> None:
    decision = decide(snap, policy)
    assert decision.action is action, decision.sentence
    assert sentence in decision.sentence


def test_the_hand_over_names_the_heir_and_resume_targets_me() -> None:
    assert decide(HOLDER, POLICY).target == "west"
    assert decide(replace(HOLDER, history=RECENT), POLICY).target == "east"
