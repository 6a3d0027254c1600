"""The workspace of one invocation: settings, home, catalog, and opening repositories.

The repository is given by name (from drkit.yaml) or URL, else ``DRKIT_REPO``.
Its passphrase comes from the named repository's ``password_file`` /
``password_command`` in drkit.yaml, ``DRKIT_PASSWORD``, the password file
(``--password-file`` / ``DRKIT_PASSWORD_FILE``), or the ``prompt`` callback a
face passes (the CLI asks at a terminal), in that order.

Reading :attr:`Workspace.settings` has no side effect: a face that versions
drkit.yaml on load calls :meth:`Workspace.record_config_version` itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.errors import UsageError
from drkit.repository.repo import Repository
from drkit.secrets import read_secret
from drkit.settings.discovery import default_home, find_settings_file, load_or_default
from drkit.storage import Backend, open_backend

if TYPE_CHECKING:
    from drkit.catalog import Catalog
    from drkit.confighistory.model import ConfigVersion
    from drkit.settings.model import RepositorySettings, Settings
    from drkit.settings.policies import PolicySettings

Prompt = Callable[[bool], str]
"""Asks for a passphrase; the argument says whether to ask twice (a new passphrase)."""


@dataclass
class Workspace:
    """Which settings, which repository and passphrase; what it opened, closed by :meth:`close`."""

    repo: str | None = None
    password_file: Path | None = None
    config: Path | None = None
    prompt: Prompt | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    _backends: list[Backend] = field(default_factory=list, repr=False)
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def settings_file(self) -> Path | None:
        return find_settings_file(self.config, os.environ)

    @property
    def settings(self) -> Settings:
        """drkit.yaml (or the defaults), loaded once; reading it writes nothing."""
        if self._settings is None:
            self._settings = load_or_default(self.settings_file)
        return self._settings

    def record_config_version(self) -> ConfigVersion | None:
        """Store drkit.yaml in the configuration history when it changed since last seen."""
        path = self.settings_file
        if path is None:
            return None
        from drkit.confighistory.hook import record_settings_change  # only when needed

        return record_settings_change(self.settings, path, self.home, self.catalog)

    @property
    def home(self) -> Path:
        """drkit's state directory: ``home`` in drkit.yaml, else DRKIT_HOME or the default."""
        return self.settings.home or default_home(os.environ)

    def catalog(self) -> Catalog:
        """The catalog named in drkit.yaml (default: SQLite in the home), migrated, opened once."""
        if self._catalog is None:
            from drkit.catalog import Catalog, default_catalog_url  # SQLAlchemy only when needed

            url = self.settings.catalog.url or default_catalog_url(self.home)
            self._catalog = Catalog.open(url)
        return self._catalog

    def policy(self, name: str) -> PolicySettings:
        """The policy ``name`` from drkit.yaml, or a usage error listing the defined ones."""
        policies = self.settings.policies
        if name not in policies:
            raise UsageError(
                f"no policy {name!r}",
                hint=f"defined in drkit.yaml: {', '.join(sorted(policies)) or 'none'}",
            )
        return policies[name]

    def named_repository(self, ref: str) -> RepositorySettings | None:
        """The repository called ``ref`` in drkit.yaml, if there is a file and it names one."""
        if not ref or self.settings_file is None:
            return None
        return self.settings.repositories.get(ref)

    def repo_url(self) -> str:
        ref = self.repo or os.environ.get("DRKIT_REPO", "")
        if not ref:
            raise UsageError(
                "no repository given",
                hint="pass --repo URL (or a name from drkit.yaml), or set DRKIT_REPO",
            )
        named = self.named_repository(ref)
        return named.url if named else ref

    def backend(self) -> Backend:
        return self._track(open_backend(self.repo_url()))

    def _track(self, backend: Backend) -> Backend:
        self._backends.append(backend)
        return backend

    def close(self) -> None:
        """Release the connections of every backend opened, and the catalog."""
        for backend in self._backends:
            try:
                backend.close()
            except Exception:
                pass
        self._backends.clear()
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def password(self, *, confirm: bool = False) -> str:
        """The passphrase of the repository named by ``repo`` / DRKIT_REPO."""
        return self.password_for(self.repo or os.environ.get("DRKIT_REPO", ""), confirm=confirm)

    def password_for(self, name: str, *, confirm: bool = False) -> str:
        """The passphrase of repository ``name`` (a drkit.yaml name, or a URL).

        A named repository's own password_file or password_command wins (each
        repository may have its own key); then DRKIT_PASSWORD, the password
        file / DRKIT_PASSWORD_FILE, and the prompt.
        """
        named = self.named_repository(name)
        if named and named.password_file:
            return read_password_file(named.password_file)
        if named and named.password_command:
            return run_password_command(named.password_command)
        return self._general_password(confirm)

    def _general_password(self, confirm: bool) -> str:
        if "DRKIT_PASSWORD" in os.environ:
            return os.environ["DRKIT_PASSWORD"]
        pw_file = self.password_file or _env_path("DRKIT_PASSWORD_FILE")
        if pw_file is not None:
            return read_password_file(pw_file)
        if self.prompt is None:
            raise UsageError(
                "no passphrase given", hint="set DRKIT_PASSWORD, or pass --password-file FILE"
            )
        return self.prompt(confirm)

    def open_repo(self, *, load_index: bool = True) -> Repository:
        repo = Repository.open(self.backend(), self.password())
        if load_index:
            repo.load_index()
        return repo

    def open_named(self, name: str, *, load_index: bool = False) -> Repository:
        """Open a repository defined in drkit.yaml by its name."""
        if self.named_repository(name) is None:
            raise UsageError(
                f"no repository {name!r} in the settings",
                hint="define it under 'repositories' in drkit.yaml",
            )
        return self.open_ref(name, load_index=load_index)

    def open_ref(
        self, ref: str, *, password: str | None = None, load_index: bool = False
    ) -> Repository:
        """Open a repository given by drkit.yaml name or URL (for commands using several)."""
        named = self.named_repository(ref)
        backend = self._track(open_backend(named.url if named else ref))
        repo = Repository.open(
            backend, password if password is not None else self.password_for(ref)
        )
        if load_index:
            repo.load_index()
        return repo


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def read_password_file(path: Path) -> str:
    """A repository passphrase from a file (its first line); UsageError when unreadable."""
    secret = read_secret("the repository passphrase", file=path, error=UsageError)
    assert secret is not None  # a file was named
    return secret


def run_password_command(command: str) -> str:
    """A repository passphrase printed by ``command``; UsageError when it fails."""
    secret = read_secret("the repository passphrase", command=command, error=UsageError)
    assert secret is not None  # a command was named
    return secret
