"""DNS in memory, for unit tests: one dict of records per (fake) server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from drkit.ha.drivers.dns.base import Dns, DnsRecord, ServerAnswer
from drkit.ha.drivers.errors import DnsError
from drkit.plugins import Plugin


class MemoryDnsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["memory"] = "memory"
    servers: list[str] = ["memory:53"]


def _key(record: DnsRecord) -> tuple[str, str]:
    zone = record.zone.rstrip(".") + "."
    name = record.name if record.name.endswith(".") else f"{record.name}.{zone}"
    return name.lower(), record.type.upper()


class MemoryDns(Dns):
    def __init__(self, servers: Sequence[str] = ("memory:53",)) -> None:
        self.records: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
            server: {} for server in servers
        }
        self.down: set[str] = set()
        self.calls: list[str] = []

    def query(self, record: DnsRecord) -> list[ServerAnswer]:
        key = _key(record)
        return [
            ServerAnswer(s, (), "timeout") if s in self.down else ServerAnswer(s, r.get(key, ()))
            for s, r in self.records.items()
        ]

    def replace(
        self,
        record: DnsRecord,
        values: Sequence[str],
        ttl: int,
        *,
        if_current: Sequence[str] | None = None,
    ) -> bool:
        self.calls.append(f"replace:{record.name}:{','.join(values)}")
        wanted = tuple(sorted(values))
        first = next(iter(self.records.values()))
        if first.get(_key(record)) == wanted:
            return False
        if if_current is not None and first.get(_key(record), ()) != tuple(sorted(if_current)):
            raise DnsError(f"{record.name} no longer holds {','.join(if_current)} (NXRRSET)")
        for server, records in self.records.items():
            if server not in self.down:
                records[_key(record)] = wanted
        return True


def _build(settings: MemoryDnsSettings) -> MemoryDns:
    return MemoryDns(settings.servers)


PLUGIN = Plugin("memory", MemoryDnsSettings, _build, "in-process DNS for tests")
