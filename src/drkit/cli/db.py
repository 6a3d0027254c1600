"""`drkit db backup | restore | list`: database sources (PostgreSQL, MariaDB, SQLite, Redis)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from drkit.cli.browse import load_snapshots
from drkit.cli.context import State
from drkit.cli.output import Output, human_bytes, out, print_json
from drkit.repository.compression import Compression
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.repository.writer import DEFAULT_PACK_SIZE
from drkit.services.progress import Counter
from drkit.sources.base import META_TYPE, BackupRequest, RestoreRequest, Source
from drkit.sources.registry import parse_source, source_for, target_type
from drkit.sources.run import backup_source, is_source_snapshot, restore_snapshot

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db", help="back up and restore databases (PostgreSQL, MariaDB, ...)")


@app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="postgresql://USER@HOST/DB, mariadb://USER@HOST/DB, sqlite:///PATH, "
            "redis://HOST:PORT, or a mapping as in drkit.yaml: '{type: postgres, dsn: ...}'"
        ),
    ],
    tag: Annotated[list[str] | None, typer.Option("--tag", help="tag the snapshot")] = None,
    host: Annotated[str | None, typer.Option(help="host name recorded in the snapshot")] = None,
    wait_lock: Annotated[float, typer.Option(help="seconds to wait for a lock")] = 0.0,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Dump a database straight into a new snapshot (nothing saved if the dump fails)."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    src = source_for(parse_source(source))
    repo = state.open_repo()
    started = time.monotonic()
    with output.progress() as progress:
        snaps = run_backup(state, src, [repo], tag or [], host, Counter(progress), wait_lock)
    report_backup(src, snaps, time.monotonic() - started, output)


def run_backup(
    state: State,
    source: Source[Any],
    repos: list[Repository],
    tags: list[str],
    host: str | None,
    progress: Counter,
    wait_lock: float = 0.0,
) -> list[Snapshot]:
    """One backup of ``source`` into ``repos`` with drkit.yaml's compression and pack size."""
    cfg = state.settings.backup if state.settings_file else None
    request = BackupRequest(
        repos,
        tags=tags,
        host=host,
        progress=progress,
        compression=Compression.parse(cfg.compression if cfg else "auto"),
        pack_size=cfg.pack_size_mib * 1024 * 1024 if cfg else DEFAULT_PACK_SIZE,
    )
    return backup_source(source, request, wait_lock)


def report_backup(
    source: Source[Any], snaps: list[Snapshot], seconds: float, output: Output
) -> None:
    snap, s = snaps[0], snaps[0].summary
    rate = s.bytes_total / seconds if seconds > 0 else 0.0
    if output.json:
        print_json(
            {
                "snapshot": snap.id,
                "short_id": snap.short_id,
                "time": snap.time,
                "source": source.config.describe(),
                "paths": snap.paths,
                "meta": snap.meta,
                "bytes": s.bytes_total,
                "added": [x.summary.data_added for x in snaps],
                "added_stored": [x.summary.data_added_stored for x in snaps],
                "seconds": round(seconds, 3),
                "bytes_per_second": round(rate),
            }
        )
        return
    if output.quiet:
        return
    added = snaps[0].summary
    out.print(
        f"{source.config.describe()}: {human_bytes(s.bytes_total)} in {seconds:.2f} s "
        f"({human_bytes(rate)}/s), added {human_bytes(added.data_added)} "
        f"({human_bytes(added.data_added_stored)} stored)"
    )
    where = f" in {len(snaps)} repositories" if len(snaps) > 1 else ""
    out.print(f"snapshot {snap.short_id} saved{where}")


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="snapshot id prefix, or `latest`")],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="target: a DSN / mariadb:// URL, a SQLite file, a Redis data directory"
        ),
    ],
    force: Annotated[
        bool, typer.Option(help="restore over a target that already holds data")
    ] = False,
    kind: Annotated[
        str | None,
        typer.Option(
            "--type", help="with `latest`: the newest snapshot of this source type (postgres...)"
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="with `latest`: the source (all or part of its path in `db list`)"),
    ] = None,
    wait_lock: Annotated[float, typer.Option(help="seconds to wait for a lock")] = 0.0,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Restore a database snapshot into a target (which must be empty unless --force).

    `latest` is the newest snapshot of one source: the one --source names, else the
    one whose database has the target's name; ambiguity is refused.
    """
    state: State = ctx.obj
    output = state.output_for(json_output)
    repo = state.open_repo()
    snap = _resolve(repo, snapshot, kind or target_type(to), source, to)
    started = time.monotonic()
    with output.progress() as progress:
        request = RestoreRequest(repo, snap, to, force, Counter(progress))
        result = restore_snapshot(request, wait_lock)
    seconds = time.monotonic() - started
    if output.json:
        print_json(
            {
                "snapshot": snap.id,
                "type": snap.meta.get(META_TYPE, "files"),
                "target": result.target,
                "created": result.created,
                "bytes": result.bytes,
                "seconds": round(seconds, 3),
                "notes": list(result.notes),
            }
        )
        return
    if not output.quiet:
        made = " (created)" if result.created else ""
        out.print(
            f"restored snapshot {snap.short_id} into {result.target}{made}: "
            f"{human_bytes(result.bytes)} in {seconds:.2f} s"
        )
    for note in result.notes:
        out.print(note)


def _resolve(
    repo: Repository, ref: str, kind: str | None, source: str | None, target: str
) -> Snapshot:
    """``latest``: the newest snapshot of one source (see snapshot_pick); an id names any."""
    from drkit.sources.snapshot_pick import pick_latest, target_database

    snaps = load_snapshots(repo)
    if ref == "latest":
        return pick_latest(
            [s for s in snaps if is_source_snapshot(s)],
            kind,
            source=source,
            target_database=target_database(target, kind),
        )
    return find_snapshot(snaps, ref)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="print the list as JSON")] = False,
) -> None:
    """List the database snapshots of the repository, oldest first."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    repo = state.open_repo(load_index=False)
    snaps = [s for s in load_snapshots(repo) if is_source_snapshot(s)]
    if output.json:
        print_json([_snapshot_doc(s) for s in snaps])
        return
    table = Table(box=None)
    for col in ("ID", "Time", "Type", "Source", "Size", "Tags"):
        table.add_column(col)
    for s in snaps:
        table.add_row(
            s.short_id,
            f"{s.time:%Y-%m-%d %H:%M:%S}",
            s.meta.get(META_TYPE, ""),
            "\n".join(s.paths),
            human_bytes(s.summary.bytes_total),
            ",".join(s.tags),
        )
    out.print(table)


def _snapshot_doc(s: Snapshot) -> dict[str, Any]:
    return {
        "id": s.id,
        "short_id": s.short_id,
        "time": s.time,
        "type": s.meta.get(META_TYPE, ""),
        "hostname": s.hostname,
        "paths": s.paths,
        "tags": s.tags,
        "bytes": s.summary.bytes_total,
        "meta": s.meta,
    }
