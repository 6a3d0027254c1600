"""`drkit backup PATH...`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json
from drkit.cli.progress import make_progress
from drkit.errors import IncompleteError
from drkit.repository.archiver import Archiver, BackupOptions, normalise_targets
from drkit.repository.compression import Compression
from drkit.repository.filecache import FileCache
from drkit.repository.locks import RepoLock
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.writer import DEFAULT_PACK_SIZE, BlobWriter


def register(app: typer.Typer) -> None:
    app.command()(backup)


def backup(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="files and directories to back up")],
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
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Back up files and directories into a new snapshot."""
    state: State = ctx.obj
    # Without a drkit.yaml the engine's defaults apply and the settings model is not loaded.
    cfg = state.settings.backup if state.settings_file else None
    targets = normalise_targets(list(paths))  # checks they exist before touching the repository
    options = BackupOptions(
        paths=targets,
        excludes=[*(cfg.excludes if cfg else []), *(exclude or [])],
        tags=tag or [],
        one_file_system=one_file_system or bool(cfg and cfg.one_file_system),
    )
    if host:
        options.host = host
    repo = state.open_repo()
    writer = BlobWriter(
        repo,
        Compression.parse(compression or (cfg.compression if cfg else "auto")),
        pack_size=cfg.pack_size_mib * 1024 * 1024 if cfg else DEFAULT_PACK_SIZE,
    )
    progress = make_progress(state.quiet, json_output)
    with RepoLock(repo, exclusive=False, operation="backup", wait=wait_lock):
        cache = FileCache.for_backup(repo.config.id, targets)
        parent = _parent(repo, targets, options.host)
        snap = Archiver(repo, writer, cache, options, progress).run(parent=parent)
    _report(snap, json_output, state.quiet)
    if snap.errors:
        raise IncompleteError(
            f"snapshot {snap.short_id} was saved, but {len(snap.errors)} path(s) could not be read",
            hint="the paths are listed above and recorded in the snapshot",
        )


def _parent(repo: Repository, paths: list[str], host: str) -> Snapshot | None:
    """The newest earlier snapshot of the same paths from the same host."""
    same = [
        s
        for s in repo.snapshots(on_damaged=lambda *_: None)
        if s.paths == paths and s.hostname == host
    ]
    return same[-1] if same else None


def _report(snap: Snapshot, json_output: bool, quiet: bool) -> None:
    s = snap.summary
    if json_output:
        print_json(
            {
                "snapshot": snap.id,
                "short_id": snap.short_id,
                "time": snap.time,
                "paths": snap.paths,
                "summary": asdict(s),
                "errors": [asdict(e) for e in snap.errors],
            }
        )
        return
    for e in snap.errors:
        out.print(f"could not read {e.path}: {e.error}")
    if quiet:
        return
    out.print(
        f"files: {s.files_new} new, {s.files_changed} changed, "
        f"{s.files_unmodified} unmodified; {s.dirs} directories"
    )
    out.print(
        f"added {human_bytes(s.data_added)} ({human_bytes(s.data_added_stored)} stored) "
        f"of {human_bytes(s.bytes_total)} in {s.duration_s:.2f} s"
    )
    out.print(f"snapshot {snap.short_id} saved")
