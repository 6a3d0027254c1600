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
from pathlib import Path
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, out
from drkit.services.quickstart import ADMIN, Prepared, ensure_admin, listen_of, prepare
from drkit.settings.discovery import default_home


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
    output = state.output
    ready = prepare(default_home(os.environ), path)
    _print_prepared(ready, output)
    config = ready.config
    jobs = ["--config", str(config)] + (["--quiet"] if output.quiet else [])
    out.print(f"[bold]2. backing up[/] {ready.source} [dim](policy 'quickstart' in {config})[/]")
    _run(app, [*jobs, "run-job", "backup:quickstart"])
    out.print("[bold]3. checking the repository, reading all data[/]")
    _run(app, [*jobs, "run-job", "read-data:quickstart:local"])
    out.print("[bold]4. restore test: restore, verify, time it against the RTO[/]")
    _run(app, [*jobs, "run-job", "restore-test:quickstart:local"])
    out.print("[bold]5. what drkit did, and what it watches[/]")
    _run(app, [*jobs, "runs", "--limit", "3"])
    _run(app, [*jobs, "serve", "--once"])
    out.print(f"done. passphrase: {ready.password_file} (keep a copy somewhere else)")
    if serve:
        address = listen or listen_of(config)
        out.print(f"[bold]6. serving[/]: schedules in {config}; Ctrl-C stops")
        _print_sign_in(config, address)
        _run(app, [*jobs, "serve", *(["--listen", listen] if listen else [])])
    else:
        out.print(f"keep it running: drkit --config {config} serve")


def _print_prepared(ready: Prepared, output: Output) -> None:
    if ready.created is None:
        out.print(f"[bold]1. using the repository[/] in {ready.repo_dir}")
        return
    out.print(f"[bold]1. creating a repository[/] in {ready.repo_dir}")
    if not output.quiet:
        out.print(f"created repository {ready.created[:8]} at {ready.repo_dir}")
        out.print("keep the passphrase safe: without it the data cannot be restored")


def _print_sign_in(config: Path, address: str) -> None:
    """The dashboard's URL, and the admin's password when this run made the user."""
    from drkit.cli.users import actor

    if not address:
        out.print("the dashboard is off: daemon.listen is '' in drkit.yaml")
        return
    host, _, port = address.rpartition(":")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
    out.print(f"dashboard: http://{shown}:{port}/", highlight=False)
    password = ensure_admin(config, actor(None))
    if password is None:
        out.print(
            f"sign in as {ADMIN} with the password made by the first quickstart "
            f"(`drkit user passwd {ADMIN}` sets a new one)"
        )
    else:
        out.print(
            f"sign in as {ADMIN}, password: {password}  (shown once: keep it)", highlight=False
        )


def _run(app: typer.Typer, args: list[str]) -> None:
    app(args, standalone_mode=False)
