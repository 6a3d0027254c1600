"""The load balancer drivers drkit knows (``loadbalancer.type`` of a site)."""

from __future__ import annotations

from typing import Any

from drkit.ha.drivers.loadbalancer import haproxy, memory
from drkit.ha.drivers.loadbalancer.base import LoadBalancer
from drkit.plugins import Registry

LOAD_BALANCERS = Registry[Any, LoadBalancer]("load balancer", [haproxy.PLUGIN, memory.PLUGIN])
