"""The configuration history of one drkit installation, as commands and the daemon use it.

:class:`History` ties the store to drkit.yaml: which rules apply to a
scope, what drkit's own configuration is right now, how a command-line
reference (``42``, ``yesterday``) names a version. Other domains that change
drkit's configuration call :meth:`History.record_drkit` afterwards, in their
own transaction when they have one.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from drkit.catalog import Catalog
from drkit.confighistory.compare import Side
from drkit.confighistory.drkit_state import DrkitState, drkit_files
from drkit.confighistory.errors import VersionNotFound
from drkit.confighistory.model import ConfigVersion, Scope, select_scopes
from drkit.confighistory.rules import ScopeRules, rules_for
from drkit.confighistory.store import NewVersion, VersionStore
from drkit.confighistory.timeparse import parse_ref
from drkit.settings.confighistory import ConfigHistorySettings
from drkit.settings.model import Settings
from drkit.users.store import records


def default_author() -> str:
    """Who is changing things: ``DRKIT_AUTHOR`` (as for runbooks), else the OS user
    (``SUDO_USER`` first, as etckeeper does)."""
    for name in ("DRKIT_AUTHOR", "SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass
class History:
    catalog: Catalog
    settings: Settings
    settings_path: Path | None
    home: Path
    store: VersionStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = VersionStore(self.catalog, self.home)

    @property
    def config(self) -> ConfigHistorySettings:
        return self.settings.config_history

    def rules(self, scope: Scope) -> ScopeRules:
        return rules_for(scope, self.config)

    # -- drkit's own configuration ------------------------------------------------------
    def live_drkit(self, session: Session) -> DrkitState:
        """drkit's configuration as it is now: drkit.yaml, runbooks, extra files, users."""
        text = None
        if self.settings_path is not None and self.settings_path.is_file():
            text = self.settings_path.read_bytes().decode("utf-8-sig")
        files = tuple(
            (name, path.read_bytes().decode("utf-8", "surrogateescape"))
            for name, path in drkit_files(self.settings, self.settings_path, self.home)
        )
        where = str(self.settings_path.absolute()) if self.settings_path else None
        return DrkitState(where, text, files, records(session))

    def record_drkit(
        self, *, author: str, message: str, session: Session | None = None
    ) -> ConfigVersion | None:
        """Store drkit's configuration as a new version if it changed; the version or None."""
        if session is None:
            with self.catalog.session() as s:
                return self.record_drkit(author=author, message=message, session=s)
        state = self.live_drkit(session)
        new = NewVersion(Scope.drkit(), state.to_content(), state.digest(), author, message)
        return self.store.record(new, session=session)

    # -- naming versions -------------------------------------------------------------------
    def resolve(self, text: str, scope: Scope | None, now: datetime | None = None) -> ConfigVersion:
        """The version ``text`` names: an id, or the version of ``scope`` in force at a time."""
        ref = parse_ref(text, now)
        if ref.version_id is not None:
            return self.store.get(ref.version_id)
        scope = scope or Scope.drkit()
        assert ref.at is not None
        found = self.store.at(scope, ref.at)
        if found is None:
            raise VersionNotFound(
                f"{scope.display} has no version at or before {ref.at.isoformat(sep=' ')}",
                hint=f"`drkit config log {scope.display}` lists its versions",
            )
        return found

    def select(self, selectors: list[str]) -> list[Scope]:
        """The known scopes the selectors name; each selector must name at least one."""
        return select_scopes(self.store.scopes(), selectors)

    def side(self, version: ConfigVersion) -> Side:
        return Side(
            version.scope,
            self.rules(version.scope),
            self.store.content(version),
            version.label,
        )
