"""The memory database, balancer, DNS and compute drivers behave as their contracts say."""

from __future__ import annotations

import pytest

from drkit.ha.drivers.compute.memory import MemoryCompute
from drkit.ha.drivers.compute.registry import COMPUTE
from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.database.registry import DATABASES
from drkit.ha.drivers.dns.base import DnsRecord
from drkit.ha.drivers.dns.memory import MemoryDns
from drkit.ha.drivers.errors import ComputeError, DatabaseError, LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.drivers.loadbalancer.memory import MemoryLoadBalancer
from drkit.plugins import UnknownType
from tests.unit.ha_drivers.contract_dns import DnsContract
from tests.unit.ha_drivers.contract_loadbalancer import LoadBalancerContract


def test_memory_database_promote_and_demote() -> None:
    db = MemoryDatabase(in_recovery=True)
    db.receive_lsn = db.replay_lsn + 100
    assert db.probe().lag_bytes == 100
    state = db.promote(5)
    assert state.is_primary and state.timeline == 2
    db.demote()
    assert db.probe().in_recovery is True
    db.stop()
    assert db.probe().reachable is False
    with pytest.raises(DatabaseError):
        db.promote(1)
    assert db.calls == ["promote", "demote", "stop:fast", "promote"]


def test_memory_balancer_states_and_unknown_server() -> None:
    lb = MemoryLoadBalancer("db", ["a", "b"])
    assert lb.set_state("a", AdminState.MAINT).admin is AdminState.MAINT
    assert [s.serving for s in lb.servers()] == [False, True]
    with pytest.raises(LoadBalancerError, match="no server 'c'"):
        lb.set_weight("c", 1)


def test_memory_dns_replace_is_idempotent_and_per_server() -> None:
    dns = MemoryDns(["p:53", "s:53"])
    record = DnsRecord("example.test", "www")
    assert dns.replace(record, ["127.0.0.2"], 60) is True
    assert dns.replace(record, ["127.0.0.2"], 60) is False
    dns.down.add("s:53")
    answers = dns.query(record)
    assert answers[0].values == ("127.0.0.2",) and answers[1].error == "timeout"


def test_memory_compute() -> None:
    app = MemoryCompute()
    app.start()
    assert app.status().running
    app.reachable = False
    with pytest.raises(ComputeError):
        app.status()


def test_unknown_type_lists_known() -> None:
    with pytest.raises(UnknownType, match="database"):
        DATABASES.get("oracle")
    assert "memory" in COMPUTE.names


class TestMemoryLoadBalancer(LoadBalancerContract):
    @pytest.fixture
    def lb(self) -> MemoryLoadBalancer:
        return MemoryLoadBalancer("db", ["s1", "s2"])


class TestMemoryDns(DnsContract):
    @pytest.fixture
    def record(self) -> DnsRecord:
        return DnsRecord("failover.test", "db")

    @pytest.fixture
    def dns(self, record: DnsRecord) -> MemoryDns:
        driver = MemoryDns()
        driver.replace(record, ["127.0.0.2"], 60)
        return driver
