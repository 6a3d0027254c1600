"""The DNS drivers drkit knows (``dns.type`` of a record that follows the primary)."""

from __future__ import annotations

from typing import Any

from drkit.ha.drivers.dns import memory, rfc2136
from drkit.ha.drivers.dns.base import Dns
from drkit.plugins import Registry

DNS_PROVIDERS = Registry[Any, Dns]("dns", [rfc2136.PLUGIN, memory.PLUGIN])
