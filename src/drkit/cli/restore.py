"""`drkit restore SNAPSHOT --target DIR`."""

from __future__ import annotations

import errno
import os
from typing import Annotated

import typer

from drkit.cli.browse import load_snapshots
from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json, warn
from drkit.cli.progress import make_progress
from drkit.errors import IncompleteError
from drkit.policy.membership import policy_tag
from drkit.repository.locks import RepoLock
from drkit.repository.restorer import Restorer, check_target
from drkit.repository.snapshot import find_snapshot


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
    no_lock: Annotated[
        bool, typer.Option("--no-lock", help="take no lock (a read-only repository)")
    ] = False,
    policy: Annotated[
        str | None, typer.Option(help="`latest` of this policy's snapshots (tag policy:NAME)")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="`latest` among snapshots with this tag (repeatable)")
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option(help="`latest` among snapshots of exactly these paths (repeatable)"),
    ] = None,
    host: Annotated[str | None, typer.Option(help="`latest` among this host's snapshots")] = None,
) -> None:
    """Restore a snapshot, or parts of it, into a directory.

    `latest` is the newest snapshot of the whole repository unless --policy, --tag,
    --path or --host narrow it (a repository shared by several policies needs them).
    """
    state: State = ctx.obj
    check_target(target, overwrite)
    repo = state.open_repo(load_index=False)
    progress = make_progress(state.quiet, json_output)
    with RepoLock(
        repo,
        exclusive=False,
        operation="restore",
        load_index=True,
        read_only_ok=True,
        no_lock=no_lock,
    ):
        tags = [*(tag or []), *([policy_tag(policy)] if policy else [])]
        snap = find_snapshot(load_snapshots(repo), snapshot, host=host, paths=path, tags=tags)
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
        for failed, why in sorted(result.failed.items()):
            out.print(f"[red]not restored:[/] {failed}: {why}", markup=True, highlight=False)
        if not state.quiet:
            out.print(
                f"restored {result.files} files, {result.dirs} directories, "
                f"{human_bytes(result.bytes)} from snapshot {snap.short_id}"
            )
    if result.failed:
        raise IncompleteError(
            f"{len(result.failed)} path(s) could not be restored",
            hint=failure_hint(list(result.failed.values())),
        )


def failure_hint(reasons: list[str]) -> str:
    """What to do about the paths a restore could not write, from why they failed."""
    if any(os.strerror(errno.ENOSPC) in why for why in reasons):
        return (
            "the restore target is full: free space there (or restore elsewhere), then "
            "restore again with --overwrite; the repository is not damaged by this"
        )
    if all(why.startswith("not in the snapshot") for why in reasons):
        return (
            "these files could not be read when the backup ran, so the snapshot has no "
            "content for them; nothing in the repository is damaged"
        )
    return (
        "`drkit check --read-data` shows the damage; another copy of the repository may "
        "still have the data"
    )
