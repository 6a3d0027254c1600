"""Which role this serve has: a pure function of one look at the lease.

The active serve is the holder of the control-plane lease in etcd. It
trusts its lease only until ``renewed + ttl - margin`` (``renewed`` is when
the renewal etcd confirmed was sent): etcd cannot give the lease to another
serve before ``renewed + ttl``, so a serve that stops starting jobs at the
trust horizon never overlaps with the next holder. A serve that cannot reach
etcd is fenced: it cannot know who is active, so it starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ACTIVE = "active"  # holds the lease: runs scheduled jobs and the monitor's alerting
    STANDBY = "standby"  # another serve holds it: serves the API, takes over on expiry
    FENCED = "fenced"  # cannot confirm the lease: starts nothing


@dataclass(frozen=True)
class LeaseLook:
    """One cycle's look at the lease (monotonic seconds for every time)."""

    me: str
    now: float
    ttl_s: float
    margin_s: float
    was: Role = Role.STANDBY
    error: str | None = None
    """Why etcd did not answer this cycle; None when it did."""
    holder: str | None = None
    """Who holds the lease after this cycle's attempt to take or renew it."""
    holder_expires_in_s: float | None = None
    renewed_at: float | None = None
    """When the last renewal of our own lease that etcd confirmed was sent."""


@dataclass(frozen=True)
class RoleDecision:
    role: Role
    reason: str
    trusted_until: float | None = None
    """Monotonic time until which an active serve may start jobs (None: not active)."""


def decide_role(look: LeaseLook) -> RoleDecision:
    """Active, standby or fenced for ``look``, with the sentence that explains it."""
    if look.error is not None:
        return _unreachable(look)
    if look.holder == look.me:
        return _holding(look)
    if look.holder is None:
        return RoleDecision(
            Role.STANDBY, "nobody holds the lease and taking it failed: trying again"
        )
    expiry = (
        f" (expires in {look.holder_expires_in_s:.0f} s unless renewed)"
        if look.holder_expires_in_s is not None
        else ""
    )
    lost = "lost the lease: " if look.was is Role.ACTIVE else ""
    return RoleDecision(
        Role.STANDBY, f"{lost}{look.holder} is active{expiry}; I take over when its lease expires"
    )


def _unreachable(look: LeaseLook) -> RoleDecision:
    if look.was is Role.ACTIVE:
        return RoleDecision(
            Role.FENCED,
            f"cannot renew the lease ({look.error}): starting no scheduled job; "
            "the running ones go on and are marked",
        )
    return RoleDecision(
        Role.FENCED,
        f"etcd unreachable ({look.error}): no serve can be known active; starting no scheduled job",
    )


def _holding(look: LeaseLook) -> RoleDecision:
    if look.renewed_at is None:
        return RoleDecision(Role.FENCED, "holding the lease without a confirmed renewal")
    trusted_until = look.renewed_at + look.ttl_s - look.margin_s
    if look.now >= trusted_until:
        late = look.now - look.renewed_at
        return RoleDecision(
            Role.FENCED,
            f"the renewal confirmed {late:.1f} s after it was sent, past the "
            f"{look.ttl_s - look.margin_s:g} s the lease is trusted: starting no job until "
            "a renewal confirms in time",
        )
    left = trusted_until - look.now
    if look.was is Role.ACTIVE:
        return RoleDecision(
            Role.ACTIVE, f"I hold the lease (trusted {left:.1f} s more)", trusted_until
        )
    return RoleDecision(
        Role.ACTIVE,
        f"took the lease: I am active and run the schedules (trusted {left:.1f} s more)",
        trusted_until,
    )
