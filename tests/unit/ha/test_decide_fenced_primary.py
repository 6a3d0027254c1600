"""A primary that fenced itself (now a replica, no leader) must not fail over to itself.

Seen in the asymmetric partition scenario (tests/integration/ha/partitions): east, unreachable
from west and the witness, fenced itself, then "promoted east: east lease expired" (a failover
east -> east), and the anti-flapping period then kept west from taking over: no primary at all.
"""

from __future__ import annotations

from dataclasses import replace

from drkit.ha.decide import Action, decide
from tests.unit.ha.test_decide import LEADERLESS, POLICY, REPLICA


def test_the_fenced_old_primary_does_not_fail_over_to_itself() -> None:
    fenced_east = replace(LEADERLESS, local=replace(REPLICA, site="east"))
    decision = decide(fenced_east, POLICY)
    assert decision.action is Action.NONE
    assert decision.sentence == "no action: no leader, and I was the primary: I stay fenced"


def test_another_replica_still_fails_over() -> None:
    assert decide(LEADERLESS, POLICY).action is Action.FAILOVER
