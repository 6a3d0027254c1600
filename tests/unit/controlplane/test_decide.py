"""The role decision, table-tested: every look at the lease, including those that must not act."""

from __future__ import annotations

import pytest

from drkit.controlplane.decide import LeaseLook, Role, decide_role

BASE = {"me": "east", "now": 100.0, "ttl_s": 10.0, "margin_s": 1.0}

CASES = [
    # (case, look fields, role, words in the reason, trusted_until)
    ("renewed just now", {"holder": "east", "renewed_at": 99.5, "was": Role.ACTIVE},
     Role.ACTIVE, "I hold the lease", 108.5),
    ("took it from nobody", {"holder": "east", "renewed_at": 99.9, "was": Role.STANDBY},
     Role.ACTIVE, "took the lease", 108.9),
    ("took it after being fenced", {"holder": "east", "renewed_at": 99.9, "was": Role.FENCED},
     Role.ACTIVE, "took the lease", 108.9),
    ("renewal confirmed late, past the trust horizon",
     {"holder": "east", "renewed_at": 90.0, "was": Role.ACTIVE}, Role.FENCED, "past the 9 s", None),
    ("exactly at the horizon is already too late",
     {"holder": "east", "renewed_at": 91.0, "was": Role.ACTIVE}, Role.FENCED, "starting no job",
     None),
    ("holding without a confirmed renewal", {"holder": "east", "renewed_at": None},
     Role.FENCED, "without a confirmed renewal", None),
    ("the other serve holds it", {"holder": "west", "holder_expires_in_s": 7.0},
     Role.STANDBY, "west is active (expires in 7 s", None),
    ("the other holds it, expiry unknown", {"holder": "west"},
     Role.STANDBY, "west is active; I take over", None),
    ("lost it to the other", {"holder": "west", "was": Role.ACTIVE},
     Role.STANDBY, "lost the lease: west is active", None),
    ("fenced (etcd was away), then sees the other active", {"holder": "west", "was": Role.FENCED},
     Role.STANDBY, "west is active; I take over", None),
    ("nobody holds it and taking it failed", {"holder": None},
     Role.STANDBY, "nobody holds the lease", None),
    ("active, etcd stops answering", {"error": "no etcd endpoint answered", "was": Role.ACTIVE,
     "renewed_at": 99.0}, Role.FENCED, "cannot renew the lease (no etcd endpoint answered)", None),
    ("standby, etcd stops answering", {"error": "timeout", "was": Role.STANDBY},
     Role.FENCED, "etcd unreachable (timeout): no serve can be known active", None),
    ("fenced stays fenced while etcd is away", {"error": "timeout", "was": Role.FENCED},
     Role.FENCED, "starting no scheduled job", None),
    ("an error wins over a stale holder", {"error": "timeout", "holder": "east",
     "renewed_at": 99.9, "was": Role.ACTIVE}, Role.FENCED, "cannot renew", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "role", "words", "trusted_until"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_role(
    fields: dict[str, object], role: Role, words: str, trusted_until: float | None
) -> None:
    decision = decide_role(LeaseLook(**{**BASE, **fields}))  # type: ignore[arg-type]
    assert decision.role is role
    assert words in decision.reason, decision.reason
    assert decision.trusted_until == trusted_until


def test_only_an_active_decision_carries_a_trust_horizon() -> None:
    for _, fields, *_ in CASES:
        decision = decide_role(LeaseLook(**{**BASE, **fields}))  # type: ignore[arg-type]
        assert (decision.trusted_until is not None) == (decision.role is Role.ACTIVE)
