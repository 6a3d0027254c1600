"""The Dns contract: every driver passes it with record ``db`` A ``127.0.0.2`` in its zone.

Subclasses provide ``dns`` (the driver) and ``record`` (a DnsRecord for ``db``).
"""

from __future__ import annotations

import pytest

from drkit.ha.drivers.dns.base import Dns, DnsRecord
from drkit.ha.drivers.errors import DnsError


class DnsContract:
    def test_query_reads_the_record(self, dns: Dns, record: DnsRecord) -> None:
        assert dns.query(record)[0].values == ("127.0.0.2",)
        assert dns.query(record)[0].error is None

    def test_replace_moves_it_and_is_idempotent(self, dns: Dns, record: DnsRecord) -> None:
        assert dns.replace(record, ["127.0.0.3"], 30) is True
        assert dns.query(record)[0].values == ("127.0.0.3",)
        assert dns.replace(record, ["127.0.0.3"], 30) is False

    def test_replace_with_several_values(self, dns: Dns, record: DnsRecord) -> None:
        dns.replace(record, ["127.0.0.5", "127.0.0.4"], 30)
        assert dns.query(record)[0].values == ("127.0.0.4", "127.0.0.5")

    def test_if_current_guards_the_move(self, dns: Dns, record: DnsRecord) -> None:
        with pytest.raises(DnsError):
            dns.replace(record, ["127.0.0.3"], 30, if_current=["127.0.0.9"])
        assert dns.query(record)[0].values == ("127.0.0.2",)
        assert dns.replace(record, ["127.0.0.3"], 30, if_current=["127.0.0.2"]) is True

    def test_new_name(self, dns: Dns, record: DnsRecord) -> None:
        other = DnsRecord(record.zone, "fresh", "A")
        assert dns.query(other)[0].values == ()
        assert dns.replace(other, ["127.0.0.7"], 30) is True
        assert dns.query(other)[0].values == ("127.0.0.7",)
