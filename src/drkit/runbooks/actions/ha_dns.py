"""What the DNS HA actions share: the server, record names and values, TSIG keys, queries.

Record values are compared in DNS's own canonical text (``dns.rdata``), so
``127.0.0.3`` and ``127.000.0.3`` or ``www`` and ``www.example.test.`` match
when they mean the same record. Queries go straight to the given server (the
authoritative one, usually the primary that takes updates): a resolver's
cache would show old answers until their TTL ran out.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
from pydantic import Field, model_validator

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


def keyring(args: TsigArgs) -> tuple[dict[dns.name.Name, Any] | None, dns.name.Name | None]:
    """(keyring, key name) for dnspython; (None, None) for unsigned messages."""
    if args.key_name is None:
        return None, None
    secret = read_secret(env=args.key_secret_env, file=args.key_secret_file, what="TSIG secret")
    try:
        ring = dns.tsigkeyring.from_text({args.key_name: (args.key_algorithm.value, secret)})
    except (ValueError, dns.exception.DNSException) as exc:
        raise ActionFailed(
            f"the TSIG secret for key {args.key_name} is not valid base64: {exc}",
            hint="use the secret exactly as the DNS server's key file has it",
        ) from exc
    return ring, dns.name.from_text(args.key_name)


def canonical(args: DnsRecordArgs, values: list[str]) -> frozenset[str]:
    """Values in canonical DNS text (names absolute), or ActionFailed for a malformed one."""
    out = set()
    for value in values:
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, args.type.value, value, origin=args.zone_name, relativize=False
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise ActionFailed(
                f"{value!r} is not a valid {args.type} record value: {exc}",
                hint="A takes an IPv4 address, AAAA an IPv6 one, CNAME a host name",
            ) from exc
        out.add(rdata.to_text(origin=dns.name.root, relativize=False))
    return frozenset(out)


def query(args: DnsRecordArgs) -> frozenset[str]:
    """The record's current values on the server (empty when it has none)."""
    request = dns.message.make_query(args.fqdn, args.type.value)
    response = exchange(args, request)
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise ActionFailed(
            f"{args.where} answered {dns.rcode.to_text(rcode)} for {args.fqdn} {args.type}",
            hint="check that the server is authoritative for the zone",
        )
    wanted = dns.rdatatype.from_text(args.type.value)
    return frozenset(
        rdata.to_text(origin=dns.name.root, relativize=False)
        for rrset in response.answer
        if rrset.rdtype == wanted and rrset.name == args.fqdn
        for rdata in rrset
    )


def exchange(args: DnsRecordArgs, message: dns.message.Message) -> dns.message.Message:
    """Send over TCP (updates and answers may be large); translate every library error."""
    try:
        return dns.query.tcp(message, args.server, port=args.port, timeout=args.timeout_s)
    except dns.tsig.PeerError as exc:
        raise ActionFailed(
            f"{args.where} rejected the TSIG signature ({type(exc).__name__})",
            hint="the key name, algorithm and secret must match the server's key, and the "
            "clocks must agree within the fudge (300 s)",
        ) from exc
    except dns.exception.Timeout as exc:
        raise ActionFailed(
            f"no answer from the DNS server {args.where} within {args.timeout_s:g} s",
            hint="check the address and port, and that the server runs",
        ) from exc
    except (OSError, dns.exception.DNSException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ActionFailed(
            f"cannot talk to the DNS server {args.where}: {reason}",
            hint="check the address and port, and that the server runs",
        ) from exc


def shown(values: frozenset[str]) -> str:
    """Values as one output string: sorted, comma-separated ('' for none)."""
    return ",".join(sorted(values))
