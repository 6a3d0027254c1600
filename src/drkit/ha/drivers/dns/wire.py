"""RFC 2136 on the wire (dnspython): canonical values, TSIG keyrings, queries, updates.

Every library error becomes a :class:`DnsError` in words: a TSIG rejection, a
timeout, a refused connection, or the update's rcode with a hint (NOTAUTH,
REFUSED, NOTZONE, NXRRSET...). Queries go to the given server itself (the
authoritative one), never through a caching resolver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from drkit.ha.drivers.errors import DnsError

RCODE_HINTS = {
    dns.rcode.NOTAUTH: "the server did not authorize the update: it needs a TSIG key "
    "(key_name and its secret) that its ACL allows for this zone",
    dns.rcode.REFUSED: "the server refused the update: its ACL for the zone must allow updates "
    "signed with this key",
    dns.rcode.NOTZONE: "the server is not authoritative for the zone: check zone and name",
    dns.rcode.NXRRSET: "the record no longer holds the values in if_current: someone else "
    "changed it; look before retrying",
    dns.rcode.YXRRSET: "a prerequisite failed: the record set exists when it should not",
    dns.rcode.SERVFAIL: "the server failed to apply the update: see its log",
}


@dataclass(frozen=True)
class Key:
    """A TSIG key: name, algorithm (e.g. hmac-sha256) and base64 secret."""

    name: str
    algorithm: str
    secret: str

    def keyring(self) -> dict[dns.name.Name, Any]:
        try:
            return dns.tsigkeyring.from_text({self.name: (self.algorithm, self.secret)})
        except (ValueError, dns.exception.DNSException) as exc:
            raise DnsError(
                f"the TSIG secret for key {self.name} is not valid base64: {exc}",
                hint="use the secret exactly as the DNS server's key file has it",
            ) from exc


@dataclass(frozen=True)
class Target:
    """One record on one server."""

    host: str
    port: int
    zone: str
    name: str
    rdtype: str
    timeout_s: float = 5.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def zone_name(self) -> dns.name.Name:
        return dns.name.from_text(self.zone)

    @property
    def fqdn(self) -> dns.name.Name:
        return dns.name.from_text(self.name, origin=self.zone_name)


def canonical(target: Target, values: Sequence[str]) -> frozenset[str]:
    """Values in canonical DNS text (names absolute), or DnsError for a malformed one."""
    out = set()
    for value in values:
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, target.rdtype, value, origin=target.zone_name, relativize=False
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise DnsError(
                f"{value!r} is not a valid {target.rdtype} record value: {exc}",
                hint="A takes an IPv4 address, AAAA an IPv6 one, CNAME a host name",
            ) from exc
        out.add(rdata.to_text(origin=dns.name.root, relativize=False))
    return frozenset(out)


def query(target: Target) -> frozenset[str]:
    """The record's current values on the server (empty when it has none)."""
    response = exchange(target, dns.message.make_query(target.fqdn, target.rdtype))
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise DnsError(
            f"{target.where} answered {dns.rcode.to_text(rcode)} for {target.fqdn} {target.rdtype}",
            hint="check that the server is authoritative for the zone",
        )
    wanted = dns.rdatatype.from_text(target.rdtype)
    return frozenset(
        rdata.to_text(origin=dns.name.root, relativize=False)
        for rrset in response.answer
        if rrset.rdtype == wanted and rrset.name == target.fqdn
        for rdata in rrset
    )


def update(
    target: Target,
    values: Sequence[str],
    ttl: int,
    key: Key | None,
    if_current: Sequence[str] | None = None,
) -> None:
    """Replace the record set in one signed update (with a prerequisite when ``if_current``)."""
    message = dns.update.UpdateMessage(
        target.zone_name,
        keyring=key.keyring() if key else None,
        keyname=dns.name.from_text(key.name) if key else None,
        keyalgorithm=key.algorithm if key else dns.tsig.default_algorithm,
    )
    if if_current is not None:
        message.present(target.fqdn, _rdataset(target, if_current, 0))
    message.replace(target.fqdn, _rdataset(target, values, ttl))
    rcode = exchange(target, message).rcode()
    if rcode != dns.rcode.NOERROR:
        raise DnsError(
            f"{target.where} refused the update of {target.fqdn}: {dns.rcode.to_text(rcode)}",
            hint=RCODE_HINTS.get(rcode, "see the DNS server's log"),
        )


def _rdataset(target: Target, values: Sequence[str], ttl: int) -> dns.rdataset.Rdataset:
    return dns.rdataset.from_text_list("IN", target.rdtype, ttl, sorted(canonical(target, values)))


def exchange(target: Target, message: dns.message.Message) -> dns.message.Message:
    """Send over TCP (updates and answers may be large); translate every library error."""
    try:
        return dns.query.tcp(message, target.host, port=target.port, timeout=target.timeout_s)
    except dns.tsig.PeerError as exc:
        raise DnsError(
            f"{target.where} rejected the TSIG signature ({type(exc).__name__})",
            hint="the key name, algorithm and secret must match the server's key, and the "
            "clocks must agree within the fudge (300 s)",
        ) from exc
    except dns.exception.Timeout as exc:
        raise DnsError(
            f"no answer from the DNS server {target.where} within {target.timeout_s:g} s",
            hint="check the address and port, and that the server runs",
        ) from exc
    except (OSError, dns.exception.DNSException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DnsError(
            f"cannot talk to the DNS server {target.where}: {reason}",
            hint="check the address and port, and that the server runs",
        ) from exc
