"""An agent back from a stall does not fence itself on what the others saw while it slept.

A primary whose agent and database were stopped for a few seconds (SIGSTOP, a
VM pause, a long GC or I/O stall) wakes up to the other voters' reach rows
written *during* the stall: "east is unreachable". Taken as they are, the quorum
rule counts it in a minority and it fences a healthy primary that still holds
a live lease, and the replica then takes over: a failover caused by a 3 s
freeze. So for a short grace after a stall (long enough for the others to
probe it again and publish), a minority fence of a lease holder is held back.

Holding it back is safe: while it holds the lease nobody else can promote (the
lease rules), a lease that ran out during the stall fences it by those rules
anyway, and a partition that is real is still there when the grace is over.
A site fenced by hand is never held back.
"""

from __future__ import annotations

from drkit.ha.splitbrain.resolve import Outcome, Resolution


def stall_threshold_s(loop_s: float, check_timeout_s: float, dcs_timeout_s: float) -> float:
    """Longer than this between two cycle starts is a stall: a normal cycle (its probes'
    timeout and grace, an etcd call) and one loop more."""
    return loop_s + check_timeout_s + 0.5 + dcs_timeout_s + loop_s


def grace_s(loop_s: float, check_timeout_s: float, rise: int) -> float:
    """How long after a stall the others may need to see this site up again and say so:
    ``rise`` successful probes of theirs, a loop more to publish, one probe's timeout."""
    return (rise + 1) * loop_s + check_timeout_s + 0.5


def after_stall(
    resolution: Resolution,
    *,
    me: str,
    leads: bool,
    hand_fenced: bool,
    stalled_s: float,
    grace_left_s: float,
) -> Resolution:
    """``resolution``, or "not yet" for a minority fence of a lease holder just back from a
    stall of ``stalled_s`` while ``grace_left_s`` of its grace remain."""
    if resolution.outcome is not Outcome.FENCE or not leads or hand_fenced:
        return resolution
    if grace_left_s <= 0:
        return resolution
    return Resolution(
        Outcome.NOTHING,
        f"not fencing {me} yet: back from a {stalled_s:.1f} s stall, the others' rows may "
        f"be from it; deciding again within {grace_left_s:.1f} s ({resolution.sentence})",
        votes=resolution.votes,
    )
