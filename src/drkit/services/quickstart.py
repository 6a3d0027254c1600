"""Setting drkit up on its embedded defaults: what ``drkit quickstart`` prepares.

:func:`prepare` makes, under ``home`` (``$DRKIT_HOME``), a passphrase file
(mode 0600; ``DRKIT_PASSWORD`` when set, else generated), a local repository
under ``repository/`` unless one is there, a small sample tree when no
directory to back up is given, and a ``drkit.yaml`` with one policy for it
unless one exists. It never overwrites: a second run reuses all of it.
:func:`ensure_admin` adds the dashboard's ``admin`` user the first time.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.services.audit import Actor

ADMIN = "admin"
POLICY = "quickstart"
REPOSITORY = "local"


@dataclass(frozen=True)
class Prepared:
    """Where quickstart keeps things, and whether this run made the repository."""

    home: Path
    repo_dir: Path
    password_file: Path
    source: Path
    config: Path
    created: str | None  # the new repository's id; None: one was there

    def to_json(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "repository": str(self.repo_dir),
            "password_file": str(self.password_file),
            "source": str(self.source),
            "config": str(self.config),
            "created": self.created,
        }


def prepare(home: Path, path: Path | None = None) -> Prepared:
    """The passphrase, repository, source and drkit.yaml under ``home`` (made where missing)."""
    repo_dir = home / "repository"
    password_file = _passphrase_file(home)
    source = path or _sample_tree(home / "sample")
    created = _repository(repo_dir, password_file)
    config = _settings_file(home, repo_dir, password_file, source)
    return Prepared(home, repo_dir, password_file, source, config, created)


def _repository(repo_dir: Path, password_file: Path) -> str | None:
    """A new repository at ``repo_dir`` (its id), or None when one is there."""
    from drkit.repository.repo import Repository
    from drkit.services.passphrase import read_password_file
    from drkit.storage.base import FileKind
    from drkit.storage.local import LocalBackend

    backend = LocalBackend(repo_dir)
    if backend.exists(FileKind.CONFIG, "config"):
        return None
    return Repository.init(backend, read_password_file(password_file)).config.id


def ensure_admin(config: Path, actor: Actor) -> str | None:
    """Add the user ``admin`` with a generated password unless it exists; the password or None.

    ``actor`` is who the audit log names as adding it.
    """
    from drkit.services import users
    from drkit.services.workspace import Workspace
    from drkit.users import Role
    from drkit.users.errors import UserNotFound
    from drkit.users.passwords import hash_password

    ws = Workspace(config=config)
    try:
        try:
            users.get_user(ws, ADMIN)
            return None
        except UserNotFound:
            password = secrets.token_urlsafe(18)
            users.add_user(ws, actor, ADMIN, hash_password(password), [Role.ADMIN])
            return password
    finally:
        ws.close()


def listen_of(config: Path) -> str:
    """The daemon's ``daemon.listen`` of ``config``."""
    from drkit.settings.loader import load_settings

    return load_settings(config).daemon.listen


def _settings_file(home: Path, repo_dir: Path, password_file: Path, source: Path) -> Path:
    """``$DRKIT_HOME/drkit.yaml``, written with one policy for ``source`` unless it exists."""
    path = home / "drkit.yaml"
    if not path.exists():
        path.write_text(
            QUICKSTART_SETTINGS.format(
                repo=repo_dir, password_file=password_file, source=source.resolve()
            )
        )
    return path


QUICKSTART_SETTINGS = """\
# Written by `drkit quickstart`; see docs/policies.md and docs/daemon.md.
repositories:
  local:
    url: {repo}
    password_file: {password_file}
policies:
  quickstart:
    sources: [{source}]
    repositories: [local]
    schedule: "0 * * * *"        # hourly backups
    retention: {{hourly: 24, daily: 7, weekly: 4}}
    rpo: 1d
    rto: 1h
    verification:
      restore_test: {{schedule: "30 3 * * *"}}
daemon:
  listen: 127.0.0.1:9464         # /metrics and /healthz
"""


def _passphrase_file(home: Path) -> Path:
    path = home / "passphrase"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.environ.get("DRKIT_PASSWORD") or secrets.token_urlsafe(24))
    return path


def _sample_tree(root: Path) -> Path:
    if root.exists():
        return root
    (root / "etc" / "app").mkdir(parents=True)
    (root / "var" / "data").mkdir(parents=True)
    (root / "etc" / "app" / "app.yaml").write_text("listen: 0.0.0.0:8080\nworkers: 4\n")
    for i in range(50):
        (root / "var" / "data" / f"record-{i:03}.json").write_text(
            f'{{"id": {i}, "payload": "{"x" * (i * 40)}"}}\n'
        )
    (root / "var" / "data" / "blob.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    return root
