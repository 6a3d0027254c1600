"""What the DNS HA actions share: the server, record names and values, TSIG keys, queries.

Record values are compared in DNS's own canonical text (``dns.rdata``), so
``127.0.0.3`` and ``127.000.0.3`` or ``www`` and ``www.example.test.`` match
when they mean the same record. Queries go straight to the given server (the
authoritative one, usually the primary that takes updates): a resolver's
cache would show old answers until their TTL ran out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import dns.name
from pydantic import Field, model_validator

from drkit.ha.drivers.dns import wire
from drkit.ha.drivers.errors import DnsError
from drkit.runbooks.actions.base import ActionArgs
from drkit.runbooks.actions.ha_common import Port, read_secret
from drkit.runbooks.errors import ActionFailed


class RecordType(StrEnum):
    """The record types failover moves (others work in DNS, but are not needed here)."""

    A = "A"
    AAAA = "AAAA"
    CNAME = "CNAME"
    TXT = "TXT"
    SRV = "SRV"


class TsigAlgorithm(StrEnum):
    HMAC_SHA256 = "hmac-sha256"
    HMAC_SHA384 = "hmac-sha384"
    HMAC_SHA512 = "hmac-sha512"
    HMAC_SHA224 = "hmac-sha224"
    HMAC_SHA1 = "hmac-sha1"
    HMAC_MD5 = "hmac-md5"


class DnsRecordArgs(ActionArgs):
    """A DNS server and one record on it (the fields every dns.* step has)."""

    server: str = Field(min_length=1, description="Address of the authoritative server.")
    port: Port = 53
    zone: str = Field(min_length=1, description="The zone, e.g. example.com.")
    name: str = Field(min_length=1, description="Record name: relative to the zone, or absolute.")
    type: RecordType = RecordType.A
    timeout_s: float = Field(default=5.0, gt=0, le=300, description="Seconds per DNS exchange.")

    @property
    def zone_name(self) -> dns.name.Name:
        return dns.name.from_text(self.zone)

    @property
    def fqdn(self) -> dns.name.Name:
        return dns.name.from_text(self.name, origin=self.zone_name)

    @property
    def where(self) -> str:
        return f"{self.server}:{self.port}"


class TsigArgs(ActionArgs):
    """A TSIG key: its name, algorithm, and where its base64 secret is (never inline)."""

    key_name: str | None = Field(default=None, description="TSIG key name; none: unsigned.")
    key_algorithm: TsigAlgorithm = TsigAlgorithm.HMAC_SHA256
    key_secret_env: str | None = None
    key_secret_file: Path | None = None

    @model_validator(mode="after")
    def _secret_with_key(self) -> TsigArgs:
        has_secret = self.key_secret_env is not None or self.key_secret_file is not None
        if self.key_secret_env is not None and self.key_secret_file is not None:
            raise ValueError("give key_secret_env or key_secret_file, not both")
        if (self.key_name is None) == has_secret:
            raise ValueError("key_name needs key_secret_env or key_secret_file, and they need it")
        return self


def key_of(args: TsigArgs) -> wire.Key | None:
    """The TSIG key (None: unsigned messages); its secret from the env or file named."""
    if args.key_name is None:
        return None
    secret = read_secret(env=args.key_secret_env, file=args.key_secret_file, what="TSIG secret")
    assert secret is not None
    key = wire.Key(args.key_name, args.key_algorithm.value, secret)
    with translated():
        key.keyring()  # a bad secret fails here, before anything is sent
    return key


def target(args: DnsRecordArgs) -> wire.Target:
    return wire.Target(
        args.server, args.port, args.zone, args.name, args.type.value, args.timeout_s
    )


@contextmanager
def translated() -> Iterator[None]:
    """The DNS driver's errors as the runner's ActionFailed (same message and hint)."""
    try:
        yield
    except DnsError as exc:
        raise ActionFailed(exc.message, hint=exc.hint) from exc


def canonical(args: DnsRecordArgs, values: list[str]) -> frozenset[str]:
    """Values in canonical DNS text (names absolute), or ActionFailed for a malformed one."""
    with translated():
        return wire.canonical(target(args), values)


def query(args: DnsRecordArgs) -> frozenset[str]:
    """The record's current values on the server (empty when it has none)."""
    with translated():
        return wire.query(target(args))


def shown(values: frozenset[str]) -> str:
    """Values as one output string: sorted, comma-separated ('' for none)."""
    return ",".join(sorted(values))
