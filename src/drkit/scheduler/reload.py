"""Noticing that drkit.yaml changed while the daemon runs, and loading it safely.

A file that no longer loads is reported and ignored: the daemon keeps the
settings it has (a typo must not stop the backups) and tries again when
the file changes once more.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from drkit.errors import DrkitError
from drkit.settings.discovery import load_or_default
from drkit.settings.model import Settings

log = logging.getLogger(__name__)


class SettingsWatcher:
    """Calls ``on_change(settings)`` after drkit.yaml changed and still loads."""

    def __init__(self, path: Path, on_change: Callable[[Settings], None]) -> None:
        self.path = path
        self.on_change = on_change
        self._seen = self._stamp()

    def check(self, *, force: bool = False) -> bool:
        """Reload if the file changed (or ``force``); return whether new settings were applied."""
        stamp = self._stamp()
        if stamp == self._seen and not force:
            return False
        self._seen = stamp
        try:
            settings = load_or_default(self.path)
        except DrkitError as exc:
            log.error(
                "drkit.yaml changed but does not load; keeping the running settings: %s (%s)",
                exc.message,
                exc.hint,
            )
            return False
        log.warning("drkit.yaml changed: schedules and notifiers reloaded")
        self.on_change(settings)
        return True

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size
