"""Operators' audit records share the DCS history with failovers; the HA loop reads only events."""

from __future__ import annotations

from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.gather import _history
from drkit.ha.splitbrain.audit import AUDIT_KIND


def test_audit_records_are_not_failover_history() -> None:
    view = ClusterView(
        cluster="c",
        revision=3,
        history=(
            {"kind": "failover", "at": 10.0, "from": "east", "to": "west", "reason": "down"},
            {"kind": AUDIT_KIND, "at": 20.0, "who": "alice", "why": "test", "site": "east"},
        ),
    )
    events = _history(view)
    assert [(e.kind, e.to_site) for e in events] == [("failover", "west")]  # last is a failover
