"""What every command needs: the workspace (:mod:`drkit.services.workspace`) and the CLI's flags.

The CLI versions drkit.yaml when a command first loads it (the workspace's
settings have no side effect; :class:`State` makes the call), and asks for a
passphrase at a terminal when nothing else gives one.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drkit.errors import UsageError
from drkit.services.workspace import Prompt, Workspace, read_password_file

if TYPE_CHECKING:
    from drkit.settings.model import Settings

__all__ = ["State", "prompt_password", "read_password_file"]


def prompt_password(confirm: bool) -> str:
    if not sys.stdin.isatty():
        raise UsageError(
            "no passphrase given", hint="set DRKIT_PASSWORD, or pass --password-file FILE"
        )
    first = getpass.getpass("repository passphrase: ")
    if confirm and getpass.getpass("repeat the passphrase: ") != first:
        raise UsageError("the passphrases differ", hint="type the same passphrase twice")
    return first


@dataclass
class State(Workspace):
    """Global options of one invocation, over its workspace."""

    prompt: Prompt | None = field(default=prompt_password, repr=False)
    quiet: bool = False
    debug: bool = False

    @property
    def settings(self) -> Settings:
        """The workspace's settings; the first load versions drkit.yaml (as drkit always did)."""
        first = self._settings is None
        settings = super().settings
        if first:
            self.record_config_version()
        return settings
