"""The audit trail: entries refused without who/why, stored in the DCS history, read back."""

from __future__ import annotations

import pytest

from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.drivers.dcs.memory import MemoryDCS, MemoryStore
from drkit.ha.splitbrain.audit import (
    AuditError,
    ManualAction,
    active_override,
    audit_trail,
    entry,
    fenced_sites,
    record_action,
)
from drkit.ha.splitbrain.resolve import Outcome, Resolution

AUTO = Resolution(
    Outcome.KEEP_PRIMARY, "keeping the primary: east holds the lease and 3 of 3 votes"
)


def _dcs() -> MemoryDCS:
    return MemoryDCS(MemoryStore(), "pg")


def test_override_fence_unfence_survive_in_the_history_with_the_automatic_decision() -> None:
    dcs = _dcs()
    dcs.append_history({"at": 1.0, "from": "east", "to": "west", "reason": "x"})  # a failover
    record_action(
        dcs,
        entry(
            ManualAction.OVERRIDE,
            who="alice",
            at=10.0,
            reason="east datacentre on fire",
            automatic=AUTO,
            site="west",
            against_quorum="override keeps west primary against the quorum",
        ),
    )
    record_action(
        dcs, entry(ManualAction.FENCE, who="bob", at=11.0, reason="r", automatic=AUTO, site="east")
    )
    store = dcs.store
    trail = audit_trail(_reopen(dcs))
    assert [e.action for e in trail] == [ManualAction.OVERRIDE, ManualAction.FENCE]
    assert trail[0].automatic == AUTO.sentence and trail[0].automatic_outcome == "keep-primary"
    assert trail[0].against_quorum
    override = active_override(trail, 12.0)
    assert override is not None and (override.primary, override.who) == ("west", "alice")
    assert fenced_sites(trail) == {"east"}

    dcs = MemoryDCS(store, "pg")
    record_action(
        dcs,
        entry(ManualAction.UNFENCE, who="bob", at=13.0, reason="r", automatic=AUTO, site="east"),
    )
    record_action(
        dcs,
        entry(ManualAction.LIFT_OVERRIDE, who="alice", at=14.0, reason="fire out", automatic=AUTO),
    )
    trail = audit_trail(_reopen(dcs))
    assert fenced_sites(trail) == frozenset()
    assert active_override(trail, 15.0) is None


def _reopen(dcs: MemoryDCS) -> ClusterView:
    """A new client of the same store (as after an agent restart): its own lease, closed first."""
    store = dcs.store
    dcs.close()
    return MemoryDCS(store, "pg").read()


def test_an_override_expires() -> None:
    item = entry(
        ManualAction.OVERRIDE,
        who="a",
        at=10.0,
        reason="r",
        automatic=AUTO,
        site="west",
        expires_at=20.0,
    )
    assert active_override((item,), 19.0) is not None
    assert active_override((item,), 20.0) is None


@pytest.mark.parametrize(
    ("who", "reason", "site", "expires"),
    [
        ("", "r", "west", None),
        ("a", " ", "west", None),
        ("a", "r", None, None),
        ("a", "r", "west", 5.0),
    ],
)
def test_refused_entries(who: str, reason: str, site: str | None, expires: float | None) -> None:
    with pytest.raises(AuditError):
        entry(
            ManualAction.OVERRIDE,
            who=who,
            at=10.0,
            reason=reason,
            automatic=AUTO,
            site=site,
            expires_at=expires,
        )


def test_junk_audit_records_are_skipped() -> None:
    dcs = _dcs()
    dcs.append_history({"kind": "audit", "action": "nonsense", "who": "x", "at": 1})
    assert audit_trail(dcs.read()) == ()
