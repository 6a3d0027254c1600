"""The DCS drivers drkit knows (``ha.dcs.type``)."""

from __future__ import annotations

from typing import Any

from drkit.ha.drivers.dcs import etcd3, memory
from drkit.ha.drivers.dcs.base import DCS
from drkit.plugins import Registry

DCS_DRIVERS = Registry[Any, DCS]("dcs", [etcd3.PLUGIN, memory.PLUGIN])
