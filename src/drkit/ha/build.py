"""Build the drivers of one site from the ``ha:`` inventory (through the drivers' registries).

The inventory speaks the user's language (a HAProxy socket, a database
host); each driver has its own settings model. This module is the adapter
between them, so neither the inventory nor the drivers know the other.
"""

from __future__ import annotations

import math
from typing import Any

from drkit.errors import UsageError
from drkit.ha.drivers.database.base import Database
from drkit.ha.drivers.database.registry import DATABASES
from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.drivers.dcs.registry import DCS_DRIVERS
from drkit.ha.drivers.loadbalancer.base import LoadBalancer
from drkit.ha.drivers.loadbalancer.registry import LOAD_BALANCERS
from drkit.settings.ha import EtcdSettings, HaSettings, SiteSettings


def site_of(ha: HaSettings, site: str) -> SiteSettings:
    try:
        return ha.sites[site]
    except KeyError:
        raise UsageError(
            f"no site {site!r} under ha.sites", hint=f"sites: {', '.join(sorted(ha.sites))}"
        ) from None


def dcs_for(ha: HaSettings) -> DCS:
    t = ha.timings
    data = etcd_driver_settings(ha.etcd, ha.cluster, t.lease_ttl_s, t.dcs_timeout_s)
    return DCS_DRIVERS.build(DCS_DRIVERS.parse(data))


def etcd_driver_settings(
    e: EtcdSettings, cluster: str, lease_ttl_s: float, timeout_s: float
) -> dict[str, Any]:
    """The etcd3 driver's settings for the inventory's ``etcd:`` block (the HA agents'
    and the control plane's): the driver tries every endpoint once, so one call, all
    endpoints included, fits in ``timeout_s``."""
    data: dict[str, Any] = {
        "type": "etcd3",
        "cluster": cluster,
        "ttl_s": max(math.ceil(lease_ttl_s), 2),
        "endpoints": e.endpoints,
        "request_timeout_s": timeout_s / len(e.endpoints),
        "retry_timeout_s": 0.0,
    }
    if e.user is not None:
        data["username"] = e.user
    for key in ("ca_file", "cert_file", "key_file", "password_file"):
        value = getattr(e, key)
        if value is not None:
            data[key] = str(value)
    return data


def database_for(ha: HaSettings, site: str) -> Database | None:
    db = site_of(ha, site).database
    if db is None:
        return None
    data = {
        "type": "postgres",
        "name": site,
        "host": db.host,
        "port": db.port,
        "user": db.user,
        "dbname": db.dbname,
        "data_dir": str(db.data_dir),
        "bin_dir": str(db.bin_dir),
        "connect_timeout_s": max(math.ceil(ha.timings.check_timeout_s), 1),
    }
    return DATABASES.build(DATABASES.parse(data))


def load_balancer_for(
    ha: HaSettings, site: str, *, timeout_s: float | None = None
) -> tuple[LoadBalancer, str] | None:
    """The site's load balancer driver and its server name (None: the site has none).

    ``timeout_s``: each runtime API call's bound, instead of the driver's default.
    """
    lb = site_of(ha, site).load_balancer
    if lb is None:
        return None
    data: dict[str, Any] = {"type": "haproxy", "backend": lb.backend}
    if timeout_s is not None:
        data["timeout_s"] = timeout_s
    if lb.socket is not None:
        data["socket"] = str(lb.socket)
    else:
        data["address"] = lb.address
    return LOAD_BALANCERS.build(LOAD_BALANCERS.parse(data)), lb.server


def conninfo(ha: HaSettings, site: str, me: str) -> str:
    """How a replica reaches ``site``'s database for streaming (primary_conninfo)."""
    db = site_of(ha, site).database
    if db is None:
        raise UsageError(f"site {site!r} has no database (a witness)")
    return f"host={db.host} port={db.port} user={db.replication_user} application_name={me}"
