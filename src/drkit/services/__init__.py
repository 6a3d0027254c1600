"""The service layer: the operations every face (CLI, daemon, REST API, HA agent) calls.

Faces parse their input, call one operation and render its typed result.
Operations take a :class:`Workspace` (settings, catalog, repositories),
report progress through a :class:`Progress` callback object and return
frozen results with ``to_json()``, the one JSON shape of ``--json``, the
daemon's journal and the API.

Heavier operation modules (``drkit.services.forget``,
``drkit.services.policy_status``) are imported by name, so that a face pays
only for what it runs.
"""

from __future__ import annotations

from drkit.services.passphrase import no_passphrase, read_password_file, run_password_command
from drkit.services.progress import SILENT, Progress, Silent
from drkit.services.workspace import AskPassphrase, Workspace

__all__ = [
    "SILENT",
    "AskPassphrase",
    "Progress",
    "Silent",
    "Workspace",
    "no_passphrase",
    "read_password_file",
    "run_password_command",
]
