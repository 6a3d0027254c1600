"""`drkit copy`: snapshots from one repository to another, without reading the source again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from drkit.cli.context import State, read_password_file
from drkit.cli.output import Output, human_bytes, out
from drkit.services import copy as service
from drkit.services.copy import CopyResult, CopySpec


def register(app: typer.Typer) -> None:
    app.command()(copy)


def copy(
    ctx: typer.Context,
    snapshots: Annotated[
        list[str] | None,
        typer.Argument(help="snapshots to copy (default: every snapshot the destination lacks)"),
    ] = None,
    to: Annotated[str, typer.Option("--to", help="destination: a drkit.yaml name or a URL")] = "",
    source: Annotated[
        str | None,
        typer.Option("--from", help="source: a drkit.yaml name or a URL (default: --repo)"),
    ] = None,
    to_password_file: Annotated[
        Path | None,
        typer.Option(
            help="passphrase of the destination, when it is a URL with its own passphrase"
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Copy snapshots between repositories; they keep their id and time."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    spec = CopySpec(
        source=source or state.repo or os.environ.get("DRKIT_REPO", ""),
        destination=to,
        snapshots=snapshots or [],
        destination_password=read_password_file(to_password_file) if to_password_file else None,
    )
    with output.progress() as progress:
        result = service.copy(state.use(), spec, progress)
    output.render(result, lambda r: _print(r, output))


def _print(result: CopyResult, output: Output) -> None:
    if output.quiet:
        return
    for snap in result.copied:
        out.print(f"copied {snap.short_id}  {snap.time:%Y-%m-%d %H:%M:%S}  {' '.join(snap.paths)}")
    wal = f"; {result.wal_copied} WAL files ({human_bytes(result.wal_bytes)})"
    out.print(
        f"{len(result.copied)} copied, {result.skipped} already there; "
        f"{result.stats.blobs_added} blobs ({human_bytes(result.stats.bytes_added)}) added"
        + (wal if result.wal_copied else "")
    )
