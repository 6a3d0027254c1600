"""`drkit restore SNAPSHOT --target DIR`: parses options, runs :mod:`drkit.services.restore`.

The operation takes the lock and picks the snapshot; this module renders its
result (text or ``--json``) and raises its failure (exit 3 when paths could
not be restored).
"""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, human_bytes, out, warn
from drkit.services import restore as service
from drkit.services.restore import RestoreOutcome, RestoreSpec, failure_hint

__all__ = ["failure_hint", "register", "restore"]


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
    output = state.output_for(json_output)
    request = RestoreSpec(
        snapshot=snapshot,
        target=target,
        includes=list(include or []),
        overwrite=overwrite,
        no_lock=no_lock,
        policy=policy,
        tags=list(tag or []),
        paths=list(path or []),
        host=host,
    )
    with output.progress() as progress:
        result = service.restore(state.use(), request, progress)
    output.render(result, lambda r: _print(r, output))
    failure = result.failure()
    if failure is not None:
        raise failure


def _print(result: RestoreOutcome, output: Output) -> None:
    done = result.result
    for w in done.warnings:
        warn(w)
    for failed, why in sorted(done.failed.items()):
        out.print(f"[red]not restored:[/] {failed}: {why}", markup=True, highlight=False)
    if not output.quiet:
        out.print(
            f"restored {done.files} files, {done.dirs} directories, "
            f"{human_bytes(done.bytes)} from snapshot {result.snapshot.short_id}"
        )
