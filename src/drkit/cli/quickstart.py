"""`drkit quickstart [PATH]`: drkit's main job on its embedded defaults.

Until the daemon exists this is the first thing a new user runs: it makes a
repository under ``$DRKIT_HOME`` (default ``~/.local/share/drkit``) with a
generated passphrase kept beside it (mode 0600), backs up PATH (or a small
sample tree it writes), lists the snapshots and checks the repository,
reading all data back.
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
) -> None:
    """Create a repository under DRKIT_HOME, back up PATH, list snapshots, check everything."""
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
    out.print(f"[bold]2. backing up[/] {source}")
    _run(app, [*common, "backup", str(source)])
    out.print("[bold]3. snapshots[/]")
    _run(app, [*common, "snapshots"])
    out.print("[bold]4. checking the repository, reading all data[/]")
    _run(app, [*common, "check", "--read-data"])
    out.print(f"done. passphrase: {password_file} (keep a copy somewhere else)")


def _run(app: typer.Typer, args: list[str]) -> None:
    app(args, standalone_mode=False)


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
