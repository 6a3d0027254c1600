"""Partition evidence rests on fresh reach rows only (a cut-off site's last row is stale).

Seen in the witness-then-replica scenario (tests/integration/ha/partitions): with west's
link down the alert said "west is unreachable from east, witness but still reaches etcd",
resting on the row west had published before the cut (kept in etcd under its lease).
"""

from __future__ import annotations

from dataclasses import replace

from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.splitbrain.detect import Kind, detect
from drkit.ha.splitbrain.facts import ETCD, Link, Reachability
from drkit.ha.splitbrain.gather import REACH_KIND, reach_from_view, reach_record
from tests.unit.ha.splitbrain.test_detect import HEALTHY

TTL = 8.0


def _view(west_at: float) -> ClusterView:
    rows = {
        "west": reach_record({"east": True, "witness": True, ETCD: True}, west_at),
        "witness": reach_record({"east": True, "west": False, ETCD: True}, 100.0),
    }
    return ClusterView("c", 1, published={REACH_KIND: rows})


def test_a_stale_row_is_left_out_and_listed_with_its_age() -> None:
    reach = reach_from_view(_view(88.0), "east", {"west": False}, now=100.0, max_age_s=TTL)
    assert not reach.reports("west")
    assert reach.get("west", ETCD) is None
    assert reach.stale == (("west", 12.0),)
    assert reach.get("witness", "west") is False  # the fresh row stays


def test_a_row_from_before_i_lost_the_site_is_stale() -> None:
    reach = reach_from_view(
        _view(95.0), "east", {"west": False}, now=100.0, max_age_s=TTL, lost={"west": 96.0}
    )
    assert reach.get("west", ETCD) is None and reach.stale == (("west", 5.0),)
    after = reach_from_view(
        _view(97.0), "east", {"west": False}, now=100.0, max_age_s=TTL, lost={"west": 96.0}
    )
    assert after.get("west", ETCD) is True  # it published after I lost it: it is alive


def test_a_fresh_row_counts() -> None:
    reach = reach_from_view(_view(95.0), "east", {"west": False}, now=100.0, max_age_s=TTL)
    assert reach.get("west", ETCD) is True and reach.stale == ()


def test_without_a_ttl_every_row_counts_as_before() -> None:
    assert reach_from_view(_view(0.0), "east", {}).get("west", ETCD) is True


def test_a_row_without_its_time_is_stale() -> None:
    view = ClusterView("c", 1, published={REACH_KIND: {"west": {"reaches": {ETCD: True}}}})
    reach = reach_from_view(view, "east", {}, now=100.0, max_age_s=TTL)
    assert reach.get("west", ETCD) is None and reach.stale[0][0] == "west"


def _facts(reach: Reachability) -> list[tuple[Kind, str, str]]:
    return [(s.kind, s.subject, s.summary) for s in detect(replace(HEALTHY, reach=reach))]


CUT_WEST = (
    Link("east", "witness", True),
    Link("witness", "east", True),
    Link("east", "west", False),
    Link("east", ETCD, True),
    Link("witness", "west", False),
    Link("witness", ETCD, True),
)


def test_a_cut_site_with_a_stale_row_is_unreachable_and_its_view_stale() -> None:
    states = _facts(Reachability(CUT_WEST, stale=(("west", 12.0),), read=True))
    assert states == [
        (
            Kind.UNREACHABLE,
            "west",
            "west is unreachable from east, witness; its own view is stale (no fresh reach row)",
        )
    ]
    assert not any("still reaches etcd" in s for _, _, s in states)


def test_a_cut_site_that_never_published_is_unknown() -> None:
    ((kind, _, summary),) = _facts(Reachability(CUT_WEST, read=True))
    assert kind is Kind.UNREACHABLE
    assert summary.endswith("its own view is unknown (no reach row)")


def test_without_etcd_myself_nobody_is_called_unknown() -> None:
    """An agent cut from etcd has only its own row: the others' views are not stale, absent."""
    assert _facts(Reachability(CUT_WEST)) == []


def test_a_cut_site_with_a_fresh_row_in_etcd_still_reaches_etcd() -> None:
    fresh = (*CUT_WEST, Link("west", ETCD, True), Link("west", "east", False))
    ((kind, _, summary),) = _facts(Reachability(fresh))
    assert kind is Kind.UNREACHABLE_IN_ETCD
    assert summary == "west is unreachable from east, witness but still reaches etcd"


def test_a_reachable_site_with_a_stale_row_is_nothing() -> None:
    fine = (Link("east", "west", True), Link("witness", "west", True))
    assert _facts(Reachability(fine, stale=(("west", 30.0),))) == []
