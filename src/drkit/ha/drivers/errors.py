"""The errors every HA driver raises; library exceptions are translated at the boundary.

DrkitError
└── HaDriverError              exit 70
    ├── DCSError               (the store answered, but not as the contract wants)
    │   └── DCSUnavailable     (no endpoint or no quorum: take no automatic action)
    ├── DatabaseError
    ├── LoadBalancerError
    ├── DnsError
    └── ComputeError
"""

from __future__ import annotations

from drkit.errors import DrkitError


class HaDriverError(DrkitError):
    code = "ha-driver"
    exit_code = 70


class DCSError(HaDriverError):
    code = "dcs"


class DCSUnavailable(DCSError):
    """No endpoint answered, or the store has no quorum. The agent must not act on its own."""

    code = "dcs-unavailable"
    default_hint = "check that a majority of the etcd members run and are reachable"


class DatabaseError(HaDriverError):
    code = "ha-database"


class LoadBalancerError(HaDriverError):
    code = "loadbalancer"


class DnsError(HaDriverError):
    code = "ha-dns"


class ComputeError(HaDriverError):
    code = "compute"
