"""The workspace every operation runs in: settings, home, catalog and repositories.

A :class:`Workspace` answers "which drkit.yaml, which home, which catalog, which
repository and with which passphrase" for every face (CLI, daemon, REST API,
HA agent). Reading anything here has no side effect: versioning drkit.yaml in
the configuration history is the explicit :meth:`Workspace.record_config_version`,
called by the face where a version is meant to be made (the CLI when a command
loads drkit.yaml, the daemon at start and reload).

The repository is the ``repo`` given (``--repo``) or ``DRKIT_REPO``: a URL, a
path, or the name of a repository in drkit.yaml. Its passphrase comes from the
named repository's ``password_file`` / ``password_command``, then
``DRKIT_PASSWORD``, then the ``password_file`` given / ``DRKIT_PASSWORD_FILE``,
then ``ask_passphrase`` (the CLI prompts on a terminal), in that order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.errors import UsageError
from drkit.services.passphrase import no_passphrase, read_password_file, run_password_command
from drkit.settings.discovery import default_home, find_settings_file, load_or_default

if TYPE_CHECKING:  # SQLAlchemy and the repository code only when an operation needs them
    from drkit.catalog import Catalog
    from drkit.confighistory.model import ConfigVersion
    from drkit.repository.keys import KeyCache
    from drkit.repository.repo import Repository
    from drkit.settings.model import RepositorySettings, Settings
    from drkit.settings.policies import PolicySettings
    from drkit.storage import Backend

AskPassphrase = Callable[[bool], str]  # confirm -> passphrase


class Workspace:
    """Settings, home, catalog and repository opening of one drkit installation."""

    def __init__(
        self,
        *,
        config: Path | None = None,
        repo: str | None = None,
        password_file: Path | None = None,
        ask_passphrase: AskPassphrase = no_passphrase,
        settings: Settings | None = None,
    ) -> None:
        self.config = config
        self.repo = repo
        self.password_file = password_file
        self.ask_passphrase = ask_passphrase
        self._settings = settings
        self._catalog: Catalog | None = None
        self._owns_catalog = True
        self._backends: list[Backend] = []
        # with keep_caches() (a long-lived face), for the process's life and shared with
        # children: the keys passphrases derive (the KDF is costly on purpose) and the
        # decrypted snapshots (immutable under their id)
        self._caching = False
        self._key_cache: KeyCache = {}
        self._snapshot_cache: dict[str, dict[str, bytes]] = {}

    def keep_caches(self) -> None:
        """Keep derived keys and decrypted snapshots between openings (the API, per request).

        A snapshot damaged on disk after it was read is then not noticed by this process's
        listings; checks (`drkit check`, the daemon's jobs) run in processes of their own.
        """
        self._caching = True

    def child(self) -> Workspace:
        """The same settings and catalog, with repository connections of its own.

        For one request of a long-lived face (the API): closing the child closes
        its backends and leaves the catalog open for the others.
        """
        other = Workspace(
            config=self.config,
            repo=self.repo,
            password_file=self.password_file,
            ask_passphrase=self.ask_passphrase,
            settings=self.settings,
        )
        other._catalog, other._owns_catalog = self.catalog(), False
        other._caching = self._caching
        other._key_cache, other._snapshot_cache = self._key_cache, self._snapshot_cache
        return other

    # -- settings ---------------------------------------------------------------------------

    @property
    def settings_file(self) -> Path | None:
        """drkit.yaml: the ``config`` given, else DRKIT_CONFIG, else the default places."""
        return find_settings_file(self.config, os.environ)

    @property
    def settings(self) -> Settings:
        """drkit.yaml, loaded once (defaults when there is none); no side effect."""
        if self._settings is None:
            self._settings = load_or_default(self.settings_file)
        return self._settings

    def use_settings(self, settings: Settings) -> None:
        """Run on ``settings`` instead of the file's (a missing drkit.yaml to restore)."""
        self._settings = settings

    def reload(self) -> Settings:
        """Read drkit.yaml again (the daemon on SIGHUP or a change it saw)."""
        self._settings = None
        return self.settings

    @property
    def home(self) -> Path:
        """drkit's state directory: ``home`` in drkit.yaml, else DRKIT_HOME or the default."""
        return self.settings.home or default_home(os.environ)

    def record_config_version(
        self, *, message: str = "drkit.yaml changed (seen at load)", author: str | None = None
    ) -> ConfigVersion | None:
        """Store drkit.yaml in the configuration history if it changed since last seen.

        Cheap when nothing changed (a fingerprint in the home); a failure is
        logged and never stops the caller. None when no version was made.
        """
        path = self.settings_file
        if path is None:
            return None
        from drkit.confighistory.hook import record_settings_change  # only when needed

        return record_settings_change(
            self.settings, path, self.home, self.catalog, author=author, message=message
        )

    def policy(self, name: str) -> PolicySettings:
        """The policy ``name`` from drkit.yaml, or a usage error listing the defined ones."""
        policies = self.settings.policies
        if name not in policies:
            raise UsageError(
                f"no policy {name!r}",
                hint=f"defined in drkit.yaml: {', '.join(sorted(policies)) or 'none'}",
            )
        return policies[name]

    # -- catalog ----------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The catalog named in drkit.yaml (default: SQLite in the home), migrated, opened once."""
        if self._catalog is None:
            from drkit.catalog import Catalog, default_catalog_url  # SQLAlchemy only when needed

            url = self.settings.catalog.url or default_catalog_url(self.home)
            self._catalog = Catalog.open(url)
        return self._catalog

    # -- repositories -----------------------------------------------------------------------

    @property
    def repo_ref(self) -> str:
        """The repository this workspace works on: ``repo`` given, else DRKIT_REPO ("" if none)."""
        return self.repo or os.environ.get("DRKIT_REPO", "")

    def named_repository(self, ref: str) -> RepositorySettings | None:
        """The repository called ``ref`` in drkit.yaml, if there is a file and it names one."""
        if not ref or self.settings_file is None:
            return None
        return self.settings.repositories.get(ref)

    def repo_url(self) -> str:
        """The URL of the workspace's repository, or a usage error when none is given."""
        ref = self.repo_ref
        if not ref:
            raise UsageError(
                "no repository given",
                hint="pass --repo URL (or a name from drkit.yaml), or set DRKIT_REPO",
            )
        named = self.named_repository(ref)
        return named.url if named else ref

    def backend(self) -> Backend:
        """The storage backend of the workspace's repository (closed by :meth:`close`)."""
        from drkit.storage import open_backend

        return self._track(open_backend(self.repo_url()))

    def password(self, *, confirm: bool = False) -> str:
        """The passphrase of the workspace's repository."""
        return self.password_for(self.repo_ref, confirm=confirm)

    def password_for(self, name: str, *, confirm: bool = False) -> str:
        """The passphrase of repository ``name`` (a drkit.yaml name, or a URL).

        A named repository's own password_file or password_command wins (each
        repository may have its own key); then DRKIT_PASSWORD, the password
        file given / DRKIT_PASSWORD_FILE, and ``ask_passphrase``.
        """
        named = self.named_repository(name)
        if named and named.password_file:
            return read_password_file(named.password_file)
        if named and named.password_command:
            return run_password_command(named.password_command)
        if "DRKIT_PASSWORD" in os.environ:
            return os.environ["DRKIT_PASSWORD"]
        pw_file = self.password_file or _env_path("DRKIT_PASSWORD_FILE")
        if pw_file is not None:
            return read_password_file(pw_file)
        return self.ask_passphrase(confirm)

    def open_repo(self, *, load_index: bool = True) -> Repository:
        """Open the workspace's repository (index loaded unless told otherwise)."""
        from drkit.repository.repo import Repository

        repo = self._cached(Repository.open(self.backend(), self.password(), self._keys()))
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
        """Open a repository given by drkit.yaml name or URL (for operations using several)."""
        from drkit.repository.repo import Repository
        from drkit.storage import open_backend

        named = self.named_repository(ref)
        backend = self._track(open_backend(named.url if named else ref))
        passphrase = password if password is not None else self.password_for(ref)
        repo = self._cached(Repository.open(backend, passphrase, self._keys()))
        if load_index:
            repo.load_index()
        return repo

    def _keys(self) -> KeyCache | None:
        return self._key_cache if self._caching else None

    def _cached(self, repo: Repository) -> Repository:
        if self._caching:
            where = f"{repo.backend.location}#{repo.config.id}"
            repo.snapshot_cache = self._snapshot_cache.setdefault(where, {})
        return repo

    def _track(self, backend: Backend) -> Backend:
        self._backends.append(backend)
        return backend

    def close(self) -> None:
        """Release every backend connection and the catalog this workspace opened."""
        for backend in self._backends:
            try:
                backend.close()
            except Exception:  # closing is best effort; the operation's outcome stands
                pass
        self._backends.clear()
        if self._catalog is not None and self._owns_catalog:
            self._catalog.close()
            self._catalog = None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
