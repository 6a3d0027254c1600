"""`drkit quickstart [PATH]`: drkit's main job on its embedded defaults.

The first thing a new user runs. It makes a repository under ``$DRKIT_HOME``
(default ``~/.local/share/drkit``) with a generated passphrase kept beside it
(mode 0600), writes a ``drkit.yaml`` there with one policy for PATH (or a
small sample tree it writes), and runs one cycle of the daemon's jobs on it,
journaled in the SQLite catalog: the backup, a full check, a restore test
that measures the RTO, then the RPO/RTO/3-2-1 evaluation and its alerts.
With ``--serve`` it then stays up as `drkit serve`.
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
        out.print(f"[bold]6. serving[/]: schedules in {config}; Ctrl-C stops")
        _run(app, [*jobs, "serve"])
    else:
        out.print(f"keep it running: drkit --config {config} serve")


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
