"""What this side does about a possible split brain: a pure function of a :class:`View`.

The rule: the side that holds the leader lease AND a majority of the votes
(sites plus witnesses) keeps the primary; a minority side fences itself at
once (database read-only or stopped, load balancer drained, DNS withdrawn
when it owns it), without waiting for anyone. A voter counts for me when I
reach it and it does not report that it cannot reach me (an asymmetric link
counts for neither side). A site fenced by hand stays fenced; an operator's
override wins over the quorum, with a warning when it goes against it; a
paused cluster does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drkit.ha.splitbrain.facts import View


class Outcome(StrEnum):
    KEEP_PRIMARY = "keep-primary"
    FENCE = "fence"
    WAIT = "wait"
    NOTHING = "nothing"


class FenceStep(StrEnum):
    DATABASE_READ_ONLY = "database-read-only"
    """Demote to read-only, or stop when that fails."""
    LB_DRAIN = "lb-drain"
    DNS_WITHDRAW = "dns-withdraw"


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    sentence: str
    steps: tuple[FenceStep, ...] = ()
    warning: str | None = None
    votes: tuple[str, ...] = ()
    """The voters counted for this side (itself included)."""

    def __str__(self) -> str:
        return self.sentence


def votes_of(view: View, me: str) -> tuple[str, ...]:
    """The voters on my side: me, and each voter I reach that does not deny reaching me."""
    mine = [me]
    for other in view.voters:
        if other == me:
            continue
        if view.reach.get(me, other) is True and view.reach.get(other, me) is not False:
            mine.append(other)
    return tuple(mine)


def has_majority(view: View, votes: tuple[str, ...]) -> bool:
    return len(votes) * 2 > len(view.voters)


def _fence_steps(view: View, me: str) -> tuple[FenceStep, ...]:
    steps = [FenceStep.DATABASE_READ_ONLY, FenceStep.LB_DRAIN]
    if me in view.owns_dns:
        steps.append(FenceStep.DNS_WITHDRAW)
    return tuple(steps)


def resolve(view: View, me: str) -> Resolution:
    """What ``me`` does now, and why, in one sentence."""
    votes = votes_of(view, me)
    count = f"{len(votes)} of {len(view.voters)} votes"
    if view.paused is not None:
        return Resolution(Outcome.NOTHING, f"no action: paused ({view.paused})", votes=votes)
    if me in view.witnesses:
        return Resolution(
            Outcome.NOTHING, f"no action: {me} is a witness, it only votes", votes=votes
        )
    if me in view.fenced:
        if me in view.writable:
            return Resolution(
                Outcome.FENCE,
                f"fencing {me}: it is fenced by hand and its database is writable",
                steps=_fence_steps(view, me),
                votes=votes,
            )
        return Resolution(Outcome.NOTHING, f"no action: {me} is fenced by hand", votes=votes)
    if view.override is not None:
        return _overridden(view, me, votes, count)
    writable = me in view.writable and me not in view.fenced
    majority = has_majority(view, votes)
    leads = view.leader == me
    if leads and majority:
        if writable:
            return Resolution(
                Outcome.KEEP_PRIMARY,
                f"keeping the primary: {me} holds the lease and {count}",
                votes=votes,
            )
        return Resolution(
            Outcome.NOTHING, f"no action: {me} leads with {count} and is not writable", votes=votes
        )
    if writable and majority and view.leader is None:
        return Resolution(
            Outcome.WAIT,
            f"waiting: {me} is writable with {count} and nobody holds the lease (it may take it)",
            votes=votes,
        )
    if writable:
        why = "without the lease" if majority else f"in a minority ({count})"
        if not leads and not majority:
            why = f"without the lease and in a minority ({count})"
        return Resolution(
            Outcome.FENCE,
            f"fencing {me}: its database is writable {why}",
            steps=_fence_steps(view, me),
            votes=votes,
        )
    if majority and view.leader is None:
        return Resolution(
            Outcome.WAIT, f"waiting: {me} has {count} but nobody holds the lease yet", votes=votes
        )
    where = f"{view.leader} holds the lease" if view.leader else "no side has the lease"
    return Resolution(Outcome.NOTHING, f"no action: {me} is not writable; {where}", votes=votes)


def _overridden(view: View, me: str, votes: tuple[str, ...], count: str) -> Resolution:
    forced = view.override
    assert forced is not None
    by = f"override by {forced.who} ({forced.reason})"
    writable = me in view.writable and me not in view.fenced
    if forced.primary == me:
        against = None
        if not has_majority(view, votes):
            against = f"override keeps {me} primary against the quorum: it has only {count}"
        if writable:
            return Resolution(
                Outcome.KEEP_PRIMARY, f"keeping the primary: {by}", warning=against, votes=votes
            )
        return Resolution(
            Outcome.WAIT,
            f"waiting: {by} names {me} primary but its database is not writable yet",
            warning=against,
            votes=votes,
        )
    if writable:
        return Resolution(
            Outcome.FENCE,
            f"fencing {me}: {by} names {forced.primary} primary",
            steps=_fence_steps(view, me),
            votes=votes,
        )
    return Resolution(Outcome.NOTHING, f"no action: {by} names {forced.primary}", votes=votes)
