"""gather() + detect() reading a real HAProxy: two writable databases both served -> reported."""

from __future__ import annotations

from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.drivers.loadbalancer.haproxy import HaproxyLoadBalancer, HaproxySettings
from drkit.ha.splitbrain.detect import Kind, detect
from drkit.ha.splitbrain.facts import Reachability
from drkit.ha.splitbrain.gather import Parts, gather
from tests.fixtures.haproxy import HaproxyServer


def test_balancers_serving_two_writable_databases_then_one_drained(haproxy: HaproxyServer) -> None:
    lb = HaproxyLoadBalancer(HaproxySettings(socket=haproxy.socket_path, backend="db"))
    parts = Parts(
        sites=("east", "west"),
        databases={"east": MemoryDatabase("east"), "west": MemoryDatabase("west")},
        balancers={"east": lb, "west": lb},  # one HAProxy read as both sites' balancer
        server_sites={"s1": "east", "s2": "west"},
    )
    kinds = [s.kind for s in detect(gather(parts, leader="east", reach=Reachability()))]
    assert kinds == [Kind.TWO_PRIMARIES, Kind.TWO_LOAD_BALANCERS]

    lb.set_state("s2", AdminState.MAINT)

    kinds = [s.kind for s in detect(gather(parts, leader="east", reach=Reachability()))]
    assert kinds == [Kind.TWO_PRIMARIES]
