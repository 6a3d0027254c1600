"""The compute drivers drkit knows (``type`` of a site's app server)."""

from __future__ import annotations

from typing import Any

from drkit.ha.drivers.compute import command, memory, ssh
from drkit.ha.drivers.compute.base import Compute
from drkit.plugins import Registry

COMPUTE = Registry[Any, Compute]("compute", [command.PLUGIN, ssh.PLUGIN, memory.PLUGIN])
