"""Opening hosts by name: ``local`` or an inventory entry; one connection per host."""

from __future__ import annotations

from types import TracebackType

from drkit.confighistory.collect.base import HostAccess
from drkit.confighistory.collect.local import LocalHost
from drkit.confighistory.collect.ssh import SshHost
from drkit.confighistory.errors import SourceAccessError
from drkit.confighistory.model import LOCAL_HOST
from drkit.settings.confighistory import HostSettings


class HostPool:
    """Hosts opened on first use and kept for the command; ``with HostPool(...) as hosts``."""

    def __init__(self, inventory: dict[str, HostSettings]) -> None:
        self.inventory = inventory
        self._open: dict[str, HostAccess] = {}

    def get(self, name: str) -> HostAccess:
        if name not in self._open:
            self._open[name] = self._make(name)
        return self._open[name]

    def _make(self, name: str) -> HostAccess:
        if name == LOCAL_HOST:
            return LocalHost()
        if name not in self.inventory:
            raise SourceAccessError(
                name,
                "",
                "is not in the inventory",
                hint="add it under config_history.inventory in drkit.yaml "
                f"(known: {', '.join(sorted(self.inventory)) or 'none'})",
            )
        return SshHost(name, self.inventory[name])

    def close(self) -> None:
        for host in self._open.values():
            host.close()
        self._open.clear()

    def __enter__(self) -> HostPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
