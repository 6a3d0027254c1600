"""`drkit copy`: snapshots from one repository to another, without reading the source again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.browse import load_snapshots
from drkit.cli.context import State, read_password_file
from drkit.cli.output import human_bytes, out, print_json
from drkit.cli.progress import make_progress
from drkit.errors import UsageError
from drkit.repository.copy import IdMap, SnapshotCopier
from drkit.repository.locks import RepoLock
from drkit.repository.snapshot import find_snapshot
from drkit.repository.writer import BlobWriter

if TYPE_CHECKING:
    from drkit.repository.repo import Repository
    from drkit.sources.wal_copy import WalCopyStats


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
    if not to:
        raise UsageError("no destination given", hint="pass --to NAME or --to URL")
    src_ref = source or state.repo or os.environ.get("DRKIT_REPO", "")
    if not src_ref:
        raise UsageError("no source given", hint="pass --from NAME|URL or --repo")
    src = state.open_ref(src_ref)
    dst_password = read_password_file(to_password_file) if to_password_file else None
    dst = state.open_ref(to, password=dst_password)
    if src.config.id == dst.config.id:
        raise UsageError("source and destination are the same repository")
    with (
        RepoLock(src, exclusive=False, operation="copy", load_index=True),
        RepoLock(dst, exclusive=False, operation="copy", load_index=True),
    ):
        copier = SnapshotCopier(
            src,
            dst,
            BlobWriter(dst),
            IdMap.for_pair(src, dst),
            make_progress(state.quiet, json_output),
        )
        available = load_snapshots(src)
        chosen = [find_snapshot(available, ref) for ref in snapshots] if snapshots else available
        todo = copier.missing(chosen)
        copier.copy(todo)
        wal = _copy_wal(src, dst, bool(snapshots))
    stats = copier.stats
    if json_output:
        print_json(
            {
                "copied": [s.id for s in todo],
                "skipped": len(chosen) - len(todo),
                "blobs_read": stats.blobs_read,
                "blobs_added": stats.blobs_added,
                "bytes_added": stats.bytes_added,
                "wal_copied": wal.copied,
            }
        )
    elif not state.quiet:
        for snap in todo:
            out.print(
                f"copied {snap.short_id}  {snap.time:%Y-%m-%d %H:%M:%S}  {' '.join(snap.paths)}"
            )
        out.print(
            f"{len(todo)} copied, {len(chosen) - len(todo)} already there; "
            f"{stats.blobs_added} blobs ({human_bytes(stats.bytes_added)}) added"
            + (f"; {wal.copied} WAL files ({human_bytes(wal.bytes)})" if wal.copied else "")
        )


def _copy_wal(src: Repository, dst: Repository, only_snapshots: bool) -> WalCopyStats:
    """The WAL archive goes along (a whole-repository copy), so the copy can do PITR."""
    from drkit.sources.wal_copy import WalCopyStats, copy_wal

    if only_snapshots:
        return WalCopyStats(0, 0, 0)
    return copy_wal(src, dst)
