"""combine(): the failover decision and the split-brain resolution, one plan, every case."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drkit.ha.decide import Action, Decision
from drkit.ha.splitbrain.facts import Override
from drkit.ha.splitbrain.precedence import DEFAULT_STEPS, Situation, combine
from drkit.ha.splitbrain.resolve import FenceStep, Outcome, Resolution

STEPS = (FenceStep.DATABASE_READ_ONLY, FenceStep.LB_DRAIN)
KEEP = Resolution(Outcome.KEEP_PRIMARY, "keeping the primary: east holds the lease and 3 of 3")
FENCE = Resolution(
    Outcome.FENCE, "fencing east: its database is writable in a minority (1 of 3 votes)", STEPS
)
NOTHING = Resolution(Outcome.NOTHING, "no action: west is not writable; east holds the lease")
WAIT = Resolution(Outcome.WAIT, "waiting: override names west primary")
REFRESH = Decision(Action.REFRESH, "no action: I am the healthy leader")
FOLLOW = Decision(Action.FOLLOW, "no action: following leader east")
FAILOVER = Decision(Action.FAILOVER, "promoting west: east lease expired", "west")
ACQUIRE = Decision(Action.ACQUIRE, "acquiring the lease", "west")
NONE = Decision(Action.NONE, "no failover: only 1 of 2 observers see it down")
D_FENCE = Decision(Action.FENCE, "fencing west: east holds the lease but my database is writable")
RELEASE = Decision(Action.RELEASE, "releasing the lease and fencing east: my database is down")
LEADER = Situation("east", leading=True, leader_present=True, healthy_replica=False)
REPLICA = Situation("west", leading=False, leader_present=True, healthy_replica=True)
ORPHAN = replace(REPLICA, leader_present=False)
TO_WEST = Override("west", "alice", "east is on fire", 1.0)

CASES = [
    # (name, decision, resolution, situation, action, sentence part, steps, by)
    ("healthy leader", REFRESH, KEEP, LEADER, Action.REFRESH, "healthy leader", (), "failover"),
    ("replica follows", FOLLOW, NOTHING, REPLICA, Action.FOLLOW, "following", (), "failover"),
    (
        "minority leader releases and fences at once",
        REFRESH,
        FENCE,
        LEADER,
        Action.RELEASE,
        "minority (1 of 3",
        STEPS,
        "split-brain",
    ),
    (
        "minority without the lease fences",
        NONE,
        FENCE,
        replace(LEADER, leading=False),
        Action.FENCE,
        "minority",
        STEPS,
        "split-brain",
    ),
    (
        "failover's own fence gets the resolution's steps and sentence",
        D_FENCE,
        FENCE,
        REPLICA,
        Action.FENCE,
        "minority",
        STEPS,
        "split-brain",
    ),
    (
        "failover's release keeps default steps when the resolution is quiet",
        RELEASE,
        NOTHING,
        LEADER,
        Action.RELEASE,
        "my database is down",
        DEFAULT_STEPS,
        "failover",
    ),
    (
        "split brain never promotes: the failover stands",
        FAILOVER,
        NOTHING,
        ORPHAN,
        Action.FAILOVER,
        "promoting west",
        (),
        "failover",
    ),
    (
        "paused: the decision as it is even if the resolution would fence",
        REFRESH,
        FENCE,
        replace(LEADER, paused=True),
        Action.REFRESH,
        "healthy leader",
        (),
        "failover",
    ),
    (
        "witness: as it is",
        Decision(Action.NONE, "no action: I am a witness"),
        NOTHING,
        replace(REPLICA, me="witness", witness=True, healthy_replica=False),
        Action.NONE,
        "witness",
        (),
        "failover",
    ),
    (
        "override elsewhere: no promotion",
        FAILOVER,
        NOTHING,
        replace(ORPHAN, me="south", override=TO_WEST),
        Action.NONE,
        "names west primary",
        (),
        "override",
    ),
    (
        "override elsewhere: no lease taken",
        ACQUIRE,
        NOTHING,
        replace(ORPHAN, me="south", override=TO_WEST),
        Action.NONE,
        "override by alice",
        (),
        "override",
    ),
    (
        "override fences the leader it does not name (resolution fences)",
        REFRESH,
        replace(FENCE, sentence="fencing east: override by alice names west primary"),
        replace(LEADER, override=TO_WEST),
        Action.RELEASE,
        "names west primary",
        STEPS,
        "override",
    ),
    (
        "override: the named replica promotes without the observers",
        NONE,
        WAIT,
        replace(ORPHAN, override=TO_WEST),
        Action.FAILOVER,
        "promoting west: override by alice (east is on fire)",
        (),
        "override",
    ),
    (
        "override: the named replica waits while another holds the lease",
        FOLLOW,
        WAIT,
        replace(REPLICA, override=TO_WEST),
        Action.FOLLOW,
        "following",
        (),
        "failover",
    ),
    (
        "override: the named writable site is not fenced for another's lease",
        D_FENCE,
        KEEP,
        replace(REPLICA, override=TO_WEST, healthy_replica=False),
        Action.NONE,
        "keeping the primary: override by alice",
        (),
        "override",
    ),
    (
        "hand-fenced: never promotes",
        FAILOVER,
        NOTHING,
        replace(ORPHAN, hand_fenced=True),
        Action.NONE,
        "fenced by hand",
        (),
        "hand-fence",
    ),
    (
        "hand-fenced: never takes the lease",
        ACQUIRE,
        NOTHING,
        replace(ORPHAN, hand_fenced=True),
        Action.NONE,
        "fenced by hand",
        (),
        "hand-fence",
    ),
    (
        "hand-fenced writable leader releases",
        REFRESH,
        replace(FENCE, sentence="fencing east: it is fenced by hand and its database is writable"),
        replace(LEADER, hand_fenced=True),
        Action.RELEASE,
        "fenced by hand",
        STEPS,
        "hand-fence",
    ),
]


@pytest.mark.parametrize(
    ("decision", "resolution", "situation", "action", "part", "steps", "by"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_combine(
    decision: Decision,
    resolution: Resolution,
    situation: Situation,
    action: Action,
    part: str,
    steps: tuple[FenceStep, ...],
    by: str,
) -> None:
    plan = combine(decision, resolution, situation)
    assert plan.decision.action is action
    assert part in plan.decision.sentence
    assert plan.steps == steps
    assert plan.by == by
