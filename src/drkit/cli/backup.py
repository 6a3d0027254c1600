"""`drkit backup PATH...` and `drkit backup --policy NAME` (fan-out to its repositories)."""

from __future__ import annotations

from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, err, human_bytes, out
from drkit.services import backup as service
from drkit.services.backup import BackupResult, BackupSpec, FileBackup, SourceBackup


def register(app: typer.Typer) -> None:
    app.command()(backup)


def backup(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="files and directories to back up")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(help="back up a policy's sources into all its repositories, reading once"),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-e", help="glob of names or paths to leave out (repeatable)"),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="tag the snapshot")] = None,
    host: Annotated[str | None, typer.Option(help="host name recorded in the snapshot")] = None,
    one_file_system: Annotated[
        bool, typer.Option("--one-file-system", "-x", help="do not cross mount points")
    ] = False,
    compression: Annotated[str | None, typer.Option(help="off, auto, max or zstd:N")] = None,
    wait_lock: Annotated[float, typer.Option(help="seconds to wait for a lock")] = 0.0,
    source: Annotated[
        str | None, typer.Option(help="with --policy: only this source (its label or path)")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Back up files and directories into a new snapshot (or, with --policy, one per repository)."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    spec = BackupSpec(
        paths=paths or [],
        policy=policy,
        excludes=exclude or [],
        tags=tag or [],
        host=host,
        one_file_system=one_file_system,
        compression=compression,
        wait_lock=wait_lock,
        source=source,
    )
    with output.progress() as progress:
        result = service.backup(state.use(), spec, progress)
    output.render(result, lambda r: _print(r, output))
    _raise_for(result)


def _raise_for(result: BackupResult) -> None:
    """A failed database source fails the command; so do files that could not be read."""
    for source in result.sources:  # on stderr, with --json too
        if source.error is not None:
            err.print(f"[red]failed:[/] {source.source}: {source.error.message}", highlight=False)
    failure = result.failure()
    if failure is not None:
        raise failure


def _print(result: BackupResult, output: Output) -> None:
    if result.files is not None:
        _print_files(result.files, output)
    for source in result.sources:
        _print_source(source, output)


def _print_files(files: FileBackup, output: Output) -> None:
    snap, s = files.snapshot, files.snapshot.summary
    for e in snap.errors:
        out.print(f"could not read {e.path}: {e.error}")
    if output.quiet:
        return
    out.print(
        f"files: {s.files_new} new, {s.files_changed} changed, "
        f"{s.files_unmodified} unmodified; {s.dirs} directories"
    )
    many = len(files.snapshots) > 1
    for name, x in zip(files.repositories, files.snapshots, strict=True):
        where = f" in {name}" if many else ""
        out.print(
            f"added {human_bytes(x.summary.data_added)} "
            f"({human_bytes(x.summary.data_added_stored)} stored){where} "
            f"of {human_bytes(s.bytes_total)} in {s.duration_s:.2f} s"
        )
    out.print(
        f"snapshot {snap.short_id} saved"
        + (f" in {len(files.snapshots)} repositories" if many else "")
    )


def _print_source(source: SourceBackup, output: Output) -> None:
    if source.error is not None or output.quiet:
        return
    snap, s = source.snapshots[0], source.snapshots[0].summary
    out.print(
        f"{source.source}: {human_bytes(s.bytes_total)} in {source.seconds:.2f} s "
        f"({human_bytes(source.bytes_per_second)}/s), added {human_bytes(s.data_added)} "
        f"({human_bytes(s.data_added_stored)} stored)"
    )
    where = f" in {len(source.snapshots)} repositories" if len(source.snapshots) > 1 else ""
    out.print(f"snapshot {snap.short_id} saved{where}")
