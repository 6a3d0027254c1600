"""A real drkit home (repository with a snapshot, catalog, users and tokens) and the API
served by a real uvicorn on 127.0.0.1, in this process, over the same Workspace code as
`drkit serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from drkit.api import create_app
from drkit.api.server import ApiServer
from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.services.workspace import Workspace
from drkit.users import Permission, Role, store
from drkit.users.tokens import issue_token, revoke_token
from drkit.web import install as dashboard
from tests.conftest import Result
from tests.fixtures.net import free_port

SETTINGS = """\
home: {root}
repositories:
  local:
    url: {root}/repo
    password_file: {root}/pw
    media: disk
    site: office
policies:
  app:
    sources: [{root}/src]
    repositories: [local]
    schedule: "0 2 * * *"
    rpo: 1d
    rto: 1h
daemon:
  listen: ''
"""

# callers of the authorization table: name -> the permissions it has (None: not authenticated)
CALLERS: dict[str, frozenset[Permission] | None] = {
    "anonymous": None,
    "viewer": frozenset({Permission.VIEW}),
    "operator": frozenset(
        {
            Permission.VIEW,
            Permission.BACKUP,
            Permission.RESTORE,
            Permission.RUNBOOKS,
            Permission.APPROVE,
            Permission.ALERTS,
        }
    ),
    "admin": frozenset(Permission),
    "narrow": frozenset({Permission.VIEW}),  # an admin's token carrying only view
    "expired": None,  # an admin's token, expired
    "revoked": None,  # an admin's token, revoked
    "garbage": None,  # not a token at all
}


@dataclass
class Api:
    root: Path
    env: dict[str, str]
    url: str
    workspace: Workspace
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, caller: str = "anonymous") -> httpx.Client:
        headers = (
            {"Authorization": f"Bearer {self.tokens[caller]}"} if caller in self.tokens else {}
        )
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def get(self, path: str, caller: str, **kw: Any) -> httpx.Response:
        with self.client(caller) as c:
            return c.get(path, **kw)

    def drkit(self, *args: str) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "drkit", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Result(list(args), proc.returncode, proc.stdout, proc.stderr)

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.drkit(*args, "--json").check().stdout)

    def catalog(self) -> Catalog:
        return self.workspace.catalog()


def make_home(root: Path) -> dict[str, str]:
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("alpha\n")
    (root / "pw").write_text("api test passphrase\n")
    (root / "drkit.yaml").write_text(SETTINGS.format(root=root))
    env = dict(os.environ)
    env.update(
        DRKIT_HOME=str(root),
        DRKIT_CONFIG=str(root / "drkit.yaml"),
        DRKIT_CACHE_DIR=str(root / "cache"),
        DRKIT_KDF_MEMORY_KIB="8192",
        DRKIT_AUTHOR="setup",
        COLUMNS="200",
    )
    for name in ("DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        env.pop(name, None)
    return env


def add_callers(catalog: Catalog) -> dict[str, str]:
    now = utcnow()
    secrets: dict[str, str] = {}
    with catalog.session() as s:
        for role in Role:
            store.add_user(s, role.value, "unused-hash", [role])
            secrets[role.value] = issue_token(s, role.value, role.value, None, None, now).secret
        narrow = issue_token(s, "admin", "narrow", [Permission.VIEW], None, now)
        secrets["narrow"] = narrow.secret
        expired = issue_token(s, "admin", "expired", None, now - timedelta(seconds=1), now)
        secrets["expired"] = expired.secret
        revoked = issue_token(s, "admin", "revoked", None, None, now)
        revoke_token(s, revoked.token.id, now)
        secrets["revoked"] = revoked.secret
    secrets["garbage"] = "drkit_not-a-token"
    return secrets


@contextmanager
def serving(setup: Api, **app: Any) -> Iterator[Api]:
    """``setup`` served by an API server of its own (``app``: create_app's options) until the
    block ends: the same home, workspace and callers at that server's URL."""
    server = ApiServer(create_app(setup.workspace, **app), f"127.0.0.1:{free_port()}")
    host, port = server.server_address
    try:
        yield replace(setup, url=f"http://{host}:{port}")
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api") / "home"
    env = make_home(root)
    setup = Api(root, env, "", Workspace(config=root / "drkit.yaml"))
    setup.drkit("--repo", "local", "init").check()
    setup.drkit("--repo", "local", "backup", str(root / "src")).check()
    setup.tokens = add_callers(setup.catalog())
    try:
        with serving(setup, mount=[dashboard]) as served:
            yield served
    finally:
        setup.workspace.close()
