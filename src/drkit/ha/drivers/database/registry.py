"""The database drivers drkit knows (``database.type`` of a site)."""

from __future__ import annotations

from typing import Any

from drkit.ha.drivers.database import memory, postgres
from drkit.ha.drivers.database.base import Database
from drkit.plugins import Registry

DATABASES = Registry[Any, Database]("database", [postgres.PLUGIN, memory.PLUGIN])
