"""The RFC 2136 DNS driver: dynamic updates signed with TSIG, answers read from each server.

``servers`` lists the authoritative servers; the first one (the primary,
which takes updates) receives them, all of them are queried. The TSIG secret
comes from an environment variable or a file, never from drkit.yaml itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drkit.ha.drivers.dns import wire
from drkit.ha.drivers.dns.base import Dns, DnsRecord, ServerAnswer
from drkit.ha.drivers.errors import DnsError
from drkit.plugins import Plugin

TsigAlgorithm = Literal[
    "hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"
]


class Rfc2136Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["rfc2136"] = "rfc2136"
    servers: list[str] = Field(min_length=1, description="host or host:port; first takes updates")
    key_name: str | None = None
    key_algorithm: TsigAlgorithm = "hmac-sha256"
    key_secret_env: str | None = None
    key_secret_file: Path | None = None
    timeout_s: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _secret_with_key(self) -> Rfc2136Settings:
        has_secret = self.key_secret_env is not None or self.key_secret_file is not None
        if self.key_secret_env is not None and self.key_secret_file is not None:
            raise ValueError("give key_secret_env or key_secret_file, not both")
        if (self.key_name is None) == has_secret:
            raise ValueError("key_name needs key_secret_env or key_secret_file, and they need it")
        for server in self.servers:
            _split(server)
        return self


def _split(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "53")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"server {server!r} is not host or host:port")
    return host, int(port)


def _secret(settings: Rfc2136Settings) -> str:
    if settings.key_secret_env is not None:
        value = os.environ.get(settings.key_secret_env, "").strip()
        if not value:
            raise DnsError(f"environment variable {settings.key_secret_env} (TSIG secret) is empty")
        return value
    assert settings.key_secret_file is not None
    try:
        lines = settings.key_secret_file.read_text().splitlines()
    except OSError as exc:
        raise DnsError(f"cannot read the TSIG secret file: {exc.strerror or exc}") from exc
    if not lines or not lines[0].strip():
        raise DnsError(f"the TSIG secret file {settings.key_secret_file} is empty")
    return lines[0].strip()


class Rfc2136Dns(Dns):
    def __init__(self, settings: Rfc2136Settings) -> None:
        self.settings = settings
        self.key = (
            wire.Key(settings.key_name, settings.key_algorithm, _secret(settings))
            if settings.key_name
            else None
        )

    def target(self, record: DnsRecord, server: str | None = None) -> wire.Target:
        host, port = _split(server or self.settings.servers[0])
        return wire.Target(
            host, port, record.zone, record.name, record.type.upper(), self.settings.timeout_s
        )

    def query(self, record: DnsRecord) -> list[ServerAnswer]:
        answers = []
        for server in self.settings.servers:
            try:
                values = wire.query(self.target(record, server))
            except DnsError as exc:
                answers.append(ServerAnswer(server, (), exc.message))
            else:
                answers.append(ServerAnswer(server, tuple(sorted(values))))
        return answers

    def replace(
        self,
        record: DnsRecord,
        values: Sequence[str],
        ttl: int,
        *,
        if_current: Sequence[str] | None = None,
    ) -> bool:
        target = self.target(record)
        if wire.query(target) == wire.canonical(target, values):
            return False
        wire.update(target, values, ttl, self.key, if_current)
        return True


PLUGIN = Plugin("rfc2136", Rfc2136Settings, Rfc2136Dns, "RFC 2136 dynamic updates with TSIG")
