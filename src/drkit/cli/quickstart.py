"""`drkit quickstart [PATH]`: drkit's main job on its embedded defaults.

The first thing a new user runs. It makes a repository under ``$DRKIT_HOME``
(default ``~/.local/share/drkit``) with a generated passphrase kept beside it
(mode 0600), writes a ``drkit.yaml`` there with one policy for PATH (or a
small sample tree it writes), and runs one cycle of the daemon's jobs on it,
journaled in the SQLite catalog: the backup, a full check, a restore test
that measures the RTO, then the RPO/RTO/3-2-1 evaluation and its alerts.
With ``--serve`` it then stays up as `drkit serve`, after printing the
dashboard's URL and, the first time, the generated password of the user
``admin`` it adds (shown once, stored only as a hash).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out
from drkit.settings.discovery import default_home
from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend


def register(app: typer.Typer) -> None:
    app.command()(quickstart)


def quickstart(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="directory to back up (default: a sample)")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve", help="then keep running as the daemon")] = False,
    listen: Annotated[
        str | None, typer.Option(help="with --serve: HOST:PORT (default daemon.listen)")
    ] = None,
) -> None:
    """Set up drkit under DRKIT_HOME and run one cycle of its jobs: backup, check, restore test."""
    from drkit.cli.main import app

    state: State = ctx.obj
    home = default_home(os.environ)
    repo_dir = home / "repository"
    password_file = _passphrase_file(home)
    source = path or _sample_tree(home / "sample")
    common = ["--repo", str(repo_dir), "--password-file", str(password_file)]
    if state.quiet:
        common.append("--quiet")
    if not LocalBackend(repo_dir).exists(FileKind.CONFIG, "config"):
        out.print(f"[bold]1. creating a repository[/] in {repo_dir}")
        _run(app, [*common, "init"])
    else:
        out.print(f"[bold]1. using the repository[/] in {repo_dir}")
    config = _settings_file(home, repo_dir, password_file, source)
    jobs = ["--config", str(config)] + (["--quiet"] if state.quiet else [])
    out.print(f"[bold]2. backing up[/] {source} [dim](policy 'quickstart' in {config})[/]")
    _run(app, [*jobs, "run-job", "backup:quickstart"])
    out.print("[bold]3. checking the repository, reading all data[/]")
    _run(app, [*jobs, "run-job", "read-data:quickstart:local"])
    out.print("[bold]4. restore test: restore, verify, time it against the RTO[/]")
    _run(app, [*jobs, "run-job", "restore-test:quickstart:local"])
    out.print("[bold]5. what drkit did, and what it watches[/]")
    _run(app, [*jobs, "runs", "--limit", "3"])
    _run(app, [*jobs, "serve", "--once"])
    out.print(f"done. passphrase: {password_file} (keep a copy somewhere else)")
    if serve:
        address = listen or _listen_of(config)
        out.print(f"[bold]6. serving[/]: schedules in {config}; Ctrl-C stops")
        _print_sign_in(config, address)
        _run(app, [*jobs, "serve", *(["--listen", listen] if listen else [])])
    else:
        out.print(f"keep it running: drkit --config {config} serve")


def _listen_of(config: Path) -> str:
    from drkit.settings.loader import load_settings

    return load_settings(config).daemon.listen


def _print_sign_in(config: Path, address: str) -> None:
    """The dashboard's URL, and the admin's password when this run made the user."""
    if not address:
        out.print("the dashboard is off: daemon.listen is '' in drkit.yaml")
        return
    host, _, port = address.rpartition(":")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
    out.print(f"dashboard: http://{shown}:{port}/", highlight=False)
    password = ensure_admin(config)
    if password is None:
        out.print(
            f"sign in as {ADMIN} with the password made by the first quickstart "
            f"(`drkit user passwd {ADMIN}` sets a new one)"
        )
    else:
        out.print(
            f"sign in as {ADMIN}, password: {password}  (shown once: keep it)", highlight=False
        )


ADMIN = "admin"


def ensure_admin(config: Path) -> str | None:
    """Add the user ``admin`` with a generated password unless it exists; the password or None."""
    from drkit.cli.users import actor
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
            users.add_user(ws, actor(None), ADMIN, hash_password(password), [Role.ADMIN])
            return password
    finally:
        ws.close()


def _run(app: typer.Typer, args: list[str]) -> None:
    app(args, standalone_mode=False)


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
