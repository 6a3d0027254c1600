"""One plan per cycle from the two decisions: ha/decide's failover decision and the
split-brain resolution. A pure function, table-tested.

The precedence, first rule that applies wins:

1. **Paused or a witness**: the failover decision as it is (it already does
   nothing but keep a paused leader's lease; the resolution says nothing).
2. **Fencing wins over everything**: when the resolution fences this side
   (its database writable in a minority, without the lease, against an
   override, or fenced by hand), the plan fences at once with the
   resolution's steps. A side that holds the lease also releases it
   (``RELEASE``), so the majority need not wait for it to expire. A failover
   decision to fence (``FENCE``/``RELEASE``) keeps its action and gains the
   steps.
3. **An override names the primary**: on the named site, a decision to
   fence because another site holds the lease is dropped (that site
   releases it, rule 2), and a healthy replica with no leader promotes at
   once (``FAILOVER``, without waiting for observers or the anti-flapping
   period: the operator decided). Elsewhere, no site takes the lease or
   promotes (``ACQUIRE``, ``FAILOVER``, ``SWITCHOVER`` become no action).
4. **A site fenced by hand** never takes the lease or promotes.
5. Otherwise the failover decision stands: split-brain resolution only
   adds fencing, never a promotion.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.ha.decide import Action, Decision
from drkit.ha.splitbrain.facts import Override
from drkit.ha.splitbrain.resolve import FenceStep, Outcome, Resolution

TAKING = frozenset({Action.ACQUIRE, Action.FAILOVER, Action.SWITCHOVER, Action.RESUME})
FENCING = frozenset({Action.FENCE, Action.RELEASE})
DEFAULT_STEPS = (FenceStep.LB_DRAIN, FenceStep.DATABASE_READ_ONLY)


@dataclass(frozen=True)
class Plan:
    """What the agent carries out this cycle."""

    decision: Decision
    steps: tuple[FenceStep, ...] = ()
    """The fence steps, when ``decision`` fences (the failover's own fence: LB, database)."""
    by: str = "failover"
    """Which rule chose: failover, split-brain, override or hand-fence."""


@dataclass(frozen=True)
class Situation:
    """The facts the precedence needs beyond the two decisions."""

    me: str
    leading: bool
    """This site holds the leader lease (as this cycle's view or its own deadline says)."""
    leader_present: bool
    """Some site holds the lease."""
    healthy_replica: bool
    paused: bool = False
    witness: bool = False
    override: Override | None = None
    hand_fenced: bool = False


def combine(decision: Decision, resolution: Resolution, s: Situation) -> Plan:
    """The one plan of this cycle (see the module docstring for the order)."""
    if s.paused or s.witness:
        return Plan(decision, _steps(decision, resolution))
    if resolution.outcome is Outcome.FENCE:
        return _fence(decision, resolution, s)
    if s.override is not None:
        return _overridden(decision, resolution, s, s.override)
    if s.hand_fenced and decision.action in TAKING:
        return Plan(
            Decision(Action.NONE, f"no action: {s.me} is fenced by hand ({decision.sentence})"),
            by="hand-fence",
        )
    return Plan(decision, _steps(decision, resolution))


def _steps(decision: Decision, resolution: Resolution) -> tuple[FenceStep, ...]:
    if decision.action not in FENCING:
        return ()
    return resolution.steps or DEFAULT_STEPS


def _fence(decision: Decision, resolution: Resolution, s: Situation) -> Plan:
    steps = resolution.steps or DEFAULT_STEPS
    by = "override" if s.override is not None else "split-brain"
    if s.hand_fenced:
        by = "hand-fence"
    if decision.action in FENCING:
        return Plan(Decision(decision.action, resolution.sentence, s.me), steps, by)
    action = Action.RELEASE if s.leading else Action.FENCE
    return Plan(Decision(action, resolution.sentence, s.me), steps, by)


def _overridden(decision: Decision, resolution: Resolution, s: Situation, o: Override) -> Plan:
    by = f"override by {o.who} ({o.reason})"
    if o.primary != s.me:
        if decision.action in TAKING:
            return Plan(
                Decision(Action.NONE, f"no action: {by} names {o.primary} primary"),
                by="override",
            )
        return Plan(decision, _steps(decision, resolution))
    if decision.action is Action.FENCE:
        # another site holds the lease but the operator named me: it releases, I keep writing
        return Plan(
            Decision(Action.NONE, f"keeping the primary: {by}; waiting for the lease"),
            by="override",
        )
    if not s.leader_present and s.healthy_replica and decision.action is not Action.FAILOVER:
        return Plan(
            Decision(Action.FAILOVER, f"promoting {s.me}: {by}", target=s.me), by="override"
        )
    return Plan(decision, _steps(decision, resolution))
