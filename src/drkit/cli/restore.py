"""`drkit restore SNAPSHOT --target DIR`."""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.browse import resolve
from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json, warn
from drkit.cli.progress import make_progress
from drkit.errors import IncompleteError
from drkit.repository.locks import RepoLock
from drkit.repository.restorer import Restorer, check_target


def register(app: typer.Typer) -> None:
    app.command()(restore)


def restore(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="snapshot id prefix or `latest`")],
    target: Annotated[str, typer.Option("--target", "-t", help="directory to restore into")],
    include: Annotated[
        list[str] | None,
        typer.Option("--include", "-i", help="restore only this path of the snapshot (repeatable)"),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="restore into a non-empty directory")] = False,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Restore a snapshot, or parts of it, into a directory."""
    state: State = ctx.obj
    check_target(target, overwrite)
    repo = state.open_repo(load_index=False)
    progress = make_progress(state.quiet, json_output)
    with RepoLock(repo, exclusive=False, operation="restore", load_index=True):
        snap = resolve(repo, snapshot)
        result = Restorer(repo, snap, target, include, progress).run()
    if json_output:
        print_json(
            {
                "snapshot": snap.id,
                "files": result.files,
                "dirs": result.dirs,
                "bytes": result.bytes,
                "failed": result.failed,
                "warnings": result.warnings,
            }
        )
    else:
        for w in result.warnings:
            warn(w)
        for path, why in sorted(result.failed.items()):
            out.print(f"[red]not restored:[/] {path}: {why}", markup=True, highlight=False)
        if not state.quiet:
            out.print(
                f"restored {result.files} files, {result.dirs} directories, "
                f"{human_bytes(result.bytes)} from snapshot {snap.short_id}"
            )
    if result.failed:
        raise IncompleteError(
            f"{len(result.failed)} path(s) could not be restored",
            hint="`drkit check --read-data` shows the damage; another "
            "copy of the repository may still have the data",
        )
