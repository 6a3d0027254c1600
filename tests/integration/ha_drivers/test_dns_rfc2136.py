"""The RFC 2136 driver against a real Knot DNS server: the contract, TSIG, per-server answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.ha.drivers.dns.base import DnsRecord
from drkit.ha.drivers.dns.registry import DNS_PROVIDERS
from drkit.ha.drivers.dns.rfc2136 import Rfc2136Dns, Rfc2136Settings
from drkit.ha.drivers.errors import DnsError
from tests.fixtures.ha import KnotServer
from tests.unit.ha_drivers.contract_dns import DnsContract


def driver(knot: KnotServer, *servers: str, secret_file: Path | None = None) -> Rfc2136Dns:
    settings = DNS_PROVIDERS.parse(
        {
            "type": "rfc2136",
            "servers": [knot.address, *servers],
            "key_name": knot.key_name,
            "key_secret_file": str(secret_file or knot.secret_file),
        }
    )
    built = DNS_PROVIDERS.build(settings)
    assert isinstance(built, Rfc2136Dns)
    return built


class TestKnot(DnsContract):
    @pytest.fixture
    def record(self, knot: KnotServer) -> DnsRecord:
        return DnsRecord(knot.zone, "db", "A")

    @pytest.fixture
    def dns(self, knot: KnotServer) -> Rfc2136Dns:
        return driver(knot)


def test_the_server_itself_serves_the_update(knot: KnotServer) -> None:
    driver(knot).replace(DnsRecord(knot.zone, "db"), ["127.0.0.3"], 30)
    assert knot.query("db") == {"127.0.0.3"}


def test_wrong_tsig_secret_is_refused(knot: KnotServer, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.secret"
    wrong.write_text("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\n")
    with pytest.raises(DnsError, match=r"TSIG|NOTAUTH"):
        driver(knot, secret_file=wrong).replace(DnsRecord(knot.zone, "db"), ["127.0.0.9"], 30)
    assert knot.query("db") == {"127.0.0.2"}


def test_each_server_answers_for_itself(knot: KnotServer) -> None:
    answers = driver(knot, "127.0.0.1:1").query(DnsRecord(knot.zone, "db"))
    assert answers[0].values == ("127.0.0.2",) and answers[0].error is None
    assert answers[1].server == "127.0.0.1:1" and answers[1].values == ()
    assert answers[1].error and "127.0.0.1:1" in answers[1].error


def test_bad_value_is_a_dns_error(knot: KnotServer) -> None:
    with pytest.raises(DnsError, match="not a valid A"):
        driver(knot).replace(DnsRecord(knot.zone, "db"), ["not-an-ip"], 30)


def test_settings_refuse_key_without_secret() -> None:
    with pytest.raises(ValueError, match="key_name"):
        Rfc2136Settings(servers=["127.0.0.1:53"], key_name="k")
    with pytest.raises(ValueError, match="host:port"):
        Rfc2136Settings(servers=["127.0.0.1:x"])
