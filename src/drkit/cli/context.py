"""What every command needs, as a thin adapter over :class:`drkit.services.Workspace`.

The repository is ``--repo`` or ``DRKIT_REPO``: a URL, a path, or the name
of a repository in drkit.yaml. The passphrase comes from the named
repository's ``password_file`` / ``password_command`` in drkit.yaml,
``DRKIT_PASSWORD``, ``--password-file`` / ``DRKIT_PASSWORD_FILE``, or a prompt
when a terminal is attached, in that order (see the Workspace).

The CLI versions drkit.yaml in the configuration history the first time a
command reads it (``settings``); the Workspace itself reads without side effects.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.cli.output import Output
from drkit.errors import UsageError
from drkit.services.passphrase import read_password_file
from drkit.services.workspace import Workspace

if TYPE_CHECKING:
    from drkit.catalog import Catalog
    from drkit.repository.repo import Repository
    from drkit.settings.model import RepositorySettings, Settings
    from drkit.settings.policies import PolicySettings
    from drkit.storage import Backend

__all__ = ["State", "prompt_password", "read_password_file"]


def prompt_password(confirm: bool) -> str:
    """Ask for the passphrase on the terminal (twice with ``confirm``)."""
    if not sys.stdin.isatty():
        raise UsageError(
            "no passphrase given", hint="set DRKIT_PASSWORD, or pass --password-file FILE"
        )
    first = getpass.getpass("repository passphrase: ")
    if confirm and getpass.getpass("repeat the passphrase: ") != first:
        raise UsageError("the passphrases differ", hint="type the same passphrase twice")
    return first


class State:
    """Global options of one invocation, over the workspace they select."""

    def __init__(
        self,
        repo: str | None = None,
        password_file: Path | None = None,
        config: Path | None = None,
        quiet: bool = False,
        debug: bool = False,
    ) -> None:
        self.output = Output(quiet=quiet)
        self.debug = debug
        self.workspace = Workspace(
            config=config, repo=repo, password_file=password_file, ask_passphrase=prompt_password
        )
        self._versioned = False

    def output_for(self, json_output: bool) -> Output:
        """The command's output, with its ``--json``; kept on the state for its helpers."""
        self.output = self.output.with_json(json_output)
        return self.output

    def use(self) -> Workspace:
        """The workspace for an operation; drkit.yaml, when there is one, versioned first."""
        if self.workspace.settings_file is not None:
            _ = self.settings
        return self.workspace

    @property
    def repo(self) -> str | None:
        return self.workspace.repo

    @property
    def password_file(self) -> Path | None:
        return self.workspace.password_file

    @property
    def config(self) -> Path | None:
        return self.workspace.config

    @property
    def settings_file(self) -> Path | None:
        return self.workspace.settings_file

    @property
    def settings(self) -> Settings:
        """drkit.yaml; the first read of a command versions it when it changed (the CLI's rule)."""
        settings = self.workspace.settings
        if not self._versioned:
            self._versioned = True
            self.workspace.record_config_version()
        return settings

    def workspace_read(self) -> Workspace:
        """The workspace with drkit.yaml read (and versioned if it changed), for an operation."""
        _ = self.settings
        return self.workspace

    def use_settings(self, settings: Settings) -> None:
        """Run on ``settings`` instead of drkit.yaml's (a missing one to restore); no version."""
        self.workspace.use_settings(settings)
        self._versioned = True

    def _reads_named(self, ref: str) -> None:
        """Where the workspace reads drkit.yaml for a repository name, the CLI versions it."""
        if ref and self.workspace.settings_file is not None:
            _ = self.settings

    @property
    def home(self) -> Path:
        _ = self.settings
        return self.workspace.home

    def catalog(self) -> Catalog:
        _ = self.settings
        return self.workspace.catalog()

    def policy(self, name: str) -> PolicySettings:
        _ = self.settings
        return self.workspace.policy(name)

    def named_repository(self, ref: str) -> RepositorySettings | None:
        self._reads_named(ref)
        return self.workspace.named_repository(ref)

    def repo_url(self) -> str:
        self._reads_named(self.workspace.repo_ref)
        return self.workspace.repo_url()

    def backend(self) -> Backend:
        self._reads_named(self.workspace.repo_ref)
        return self.workspace.backend()

    def password(self, *, confirm: bool = False) -> str:
        self._reads_named(self.workspace.repo_ref)
        return self.workspace.password(confirm=confirm)

    def password_for(self, name: str, *, confirm: bool = False) -> str:
        self._reads_named(name)
        return self.workspace.password_for(name, confirm=confirm)

    def open_repo(self, *, load_index: bool = True) -> Repository:
        self._reads_named(self.workspace.repo_ref)
        return self.workspace.open_repo(load_index=load_index)

    def open_named(self, name: str, *, load_index: bool = False) -> Repository:
        self._reads_named(name)
        return self.workspace.open_named(name, load_index=load_index)

    def open_ref(
        self, ref: str, *, password: str | None = None, load_index: bool = False
    ) -> Repository:
        self._reads_named(ref)
        return self.workspace.open_ref(ref, password=password, load_index=load_index)

    def close(self) -> None:
        """Release the connections of every backend and the catalog this command opened."""
        self.workspace.close()
