"""gather() over test drivers: routing mapped to sites, faults as missing facts, reach rows."""

from __future__ import annotations

from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState, LoadBalancer, OpState, ServerState
from drkit.ha.splitbrain.facts import Reachability
from drkit.ha.splitbrain.gather import REACH_KIND, reach_from_view, reach_record, routes


class _Lb(LoadBalancer):
    def __init__(self, states: list[ServerState] | None) -> None:
        self.backend, self.states = "pg", states

    def servers(self) -> list[ServerState]:
        if self.states is None:
            raise LoadBalancerError("stats socket refused")
        return self.states

    def set_state(self, server: str, state: AdminState) -> ServerState:
        raise NotImplementedError

    def set_weight(self, server: str, weight: int) -> ServerState:
        raise NotImplementedError

    def shutdown_sessions(self, server: str) -> int:
        raise NotImplementedError


def _server(name: str, admin: AdminState) -> ServerState:
    return ServerState("pg", name, "127.0.0.2", 5432, admin, OpState.UP, 1, 0)


def test_routes_map_servers_to_sites_and_skip_an_unreadable_balancer() -> None:
    lbs = {
        "east": _Lb([_server("pg-east", AdminState.READY), _server("pg-west", AdminState.MAINT)]),
        "west": _Lb(None),
    }
    got = routes(lbs, {"pg-east": "east", "pg-west": "west"})
    assert [(r.lb_site, r.target_site, r.serving) for r in got] == [
        ("east", "east", True),
        ("east", "west", False),
    ]


def test_reach_rows_round_trip_through_the_view() -> None:
    view = ClusterView(
        "c",
        1,
        published={
            REACH_KIND: {
                "west": reach_record({"east": False, "etcd": True}, 1.0),
                "bad": {"reaches": "nope"},
            }
        },
    )
    reach = reach_from_view(view, "east", {"west": True})
    assert isinstance(reach, Reachability)
    assert reach.get("east", "west") is True
    assert reach.get("west", "east") is False
    assert reach.get("west", "etcd") is True
    assert not reach.reports("bad")
