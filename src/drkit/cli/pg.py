"""`drkit pg basebackup|backups|restore`, `drkit wal-push`, `drkit wal-fetch`, and
the rendering of `drkit check --chain`.

The work is in :mod:`drkit.sources.postgres_physical`, ``wal_*`` and ``pitr*``;
this module parses options, takes locks and prints. ``wal-push`` and
``wal-fetch`` are PostgreSQL's ``archive_command`` and ``restore_command``:
they open the repository without its index, take no lock, print nothing on
success, and end non-zero whenever the file was not stored or restored.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, err, human_bytes, out, print_json
from drkit.errors import DrkitError, UsageError
from drkit.services.progress import Counter

if TYPE_CHECKING:
    from datetime import datetime

    from drkit.catalog import Catalog
    from drkit.repository.repo import Repository
    from drkit.sources.pitr_restore import FetchAccess, RestoreOutcome
    from drkit.sources.postgres_physical_meta import PhysicalBackup

pg_app = typer.Typer(
    name="pg", no_args_is_help=True, help="PostgreSQL base backups and point-in-time recovery"
)
PGDATA_HELP = "the data directory (default: the current one, as PostgreSQL runs the command)"


def register(app: typer.Typer) -> None:
    app.add_typer(pg_app, name="pg", help="PostgreSQL base backups and point-in-time recovery")
    app.command("wal-push")(wal_push)
    app.command("wal-fetch")(wal_fetch)


# -- archive_command / restore_command ------------------------------------------------
def wal_push(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the WAL file (%p)")],
    pgdata: Annotated[Path, typer.Option(help=PGDATA_HELP)] = Path("."),
    system_id: Annotated[int | None, typer.Option(help="the cluster's system identifier")] = None,
    spool: Annotated[
        Path | None,
        typer.Option(
            help="hand the file to this spool and return (drkit pg archive-pusher sends it)"
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Archive one WAL file (archive_command = 'drkit wal-push %p')."""
    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_errors import WalConflict
    from drkit.sources.wal_push import push_file

    state: State = ctx.obj
    output = state.output_for(json_output)
    if spool is not None:  # asynchronous: durable in the spool is success
        from drkit.sources.wal_spool import spool_file

        spooled = spool_file(spool, path, pgdata=pgdata, system_id=system_id)
        if output.json:
            print_json({**asdict(spooled), "outcome": "spooled"})
        return
    repo = state.open_repo(load_index=False)
    try:
        result = push_file(WalArchive(repo), path, pgdata=pgdata, system_id=system_id)
    except WalConflict as exc:
        _alert_conflict(state, path, exc)
        raise
    if output.json:
        print_json({**asdict(result), "outcome": result.outcome.value})


def _alert_conflict(state: State, path: Path, exc: DrkitError) -> None:
    """A refused push is an incident someone must look at: tell the alert notifiers now."""
    from drkit.notify.base import Severity
    from drkit.notify.immediate import notify_now

    notify_now(
        state.settings,
        dedup_key=f"wal-conflict:{path.name}",
        severity=Severity.CRITICAL,
        summary=exc.message,
        source=f"WAL archive in {state.repo_url()}",
        details=(("segment", path.name), ("hint", exc.hint)),
    )


def wal_fetch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the WAL file name PostgreSQL asks for (%f)")],
    dest: Annotated[Path, typer.Argument(help="where to write it (%p)")],
    pgdata: Annotated[Path, typer.Option(help=PGDATA_HELP)] = Path("."),
    system_id: Annotated[int | None, typer.Option(help="the cluster's system identifier")] = None,
) -> None:
    """Restore one WAL file from the archive (restore_command = 'drkit wal-fetch %f %p').

    Exits 1 when the file is not archived (PostgreSQL's "end of the archive") and
    200 on any other failure, which PostgreSQL takes as fatal: recovery stops.
    """
    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_errors import WalNotArchived
    from drkit.sources.wal_push import fetch_failure, fetch_file

    state: State = ctx.obj
    try:
        repo = state.open_repo(load_index=False)
        fetch_file(WalArchive(repo), name, dest, pgdata=pgdata, system_id=system_id)
    except WalNotArchived as exc:
        # PostgreSQL asks for files that do not exist yet (the next segment, newer
        # timelines): a plain non-zero exit is the answer, not an error report.
        err.print(f"wal-fetch: {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except Exception as exc:  # every other failure must stop recovery (see fetch_failure)
        raise fetch_failure(exc) from exc


# -- pg archive-pusher -------------------------------------------------------------------
@pg_app.command("archive-pusher")
def archive_pusher(
    ctx: typer.Context,
    spool: Annotated[Path, typer.Option(help="the spool wal-push --spool fills")],
    workers: Annotated[int, typer.Option(min=1, max=64, help="files pushed at once")] = 4,
    poll: Annotated[float, typer.Option(help="seconds between looks at an empty spool")] = 0.5,
    once: Annotated[bool, typer.Option(help="push what is spooled, then exit")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Send spooled WAL files to the repository, oldest first, until stopped (SIGTERM)."""
    import signal

    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_spool import run_pusher

    state: State = ctx.obj
    output = state.output_for(json_output)
    if not spool.is_dir():
        raise UsageError(f"the spool {spool} is not a folder", hint="create it (mkdir -p)")
    repo = state.open_repo(load_index=False)
    stop = {"now": False}

    def _stop(signum: int, _frame: object) -> None:
        stop["now"] = True  # the round in progress ends; no spooled file is dropped

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    result = run_pusher(
        WalArchive(repo), spool, workers=workers, poll=poll, once=once, stopping=lambda: stop["now"]
    )
    if output.json:
        print_json(asdict(result))
    elif not output.quiet:
        out.print(
            f"archive-pusher: {result.pushed_total} WAL file(s) pushed, {result.pending} waiting",
            markup=False,
        )


# -- pg receive-wal ---------------------------------------------------------------------
@pg_app.command("receive-wal")
def receive_wal(
    ctx: typer.Context,
    dsn: Annotated[str, typer.Option(help="the server, e.g. 'host=db1 user=replicator'")],
    directory: Annotated[
        Path, typer.Option("--dir", help="pg_receivewal's folder (local; the partial segment)")
    ],
    spool: Annotated[Path, typer.Option(help="the spool completed segments are handed to")],
    slot: Annotated[
        str | None, typer.Option(help="stream from this physical replication slot")
    ] = None,
    create_slot: Annotated[
        bool, typer.Option("--create-slot", help="create the slot unless it exists")
    ] = False,
    synchronous: Annotated[
        bool,
        typer.Option(
            "--synchronous",
            help="flush each write at once (lets the server treat this as a synchronous standby)",
        ),
    ] = False,
    push: Annotated[
        bool,
        typer.Option(help="also push the spool to the repository (else run pg archive-pusher)"),
    ] = True,
    workers: Annotated[int, typer.Option(min=1, max=64, help="files pushed at once")] = 4,
    pg_password_file: Annotated[
        Path | None, typer.Option(help="file holding the PostgreSQL password")
    ] = None,
    bin_dir: Annotated[Path | None, typer.Option(help="folder of pg_receivewal")] = None,
    restart_delay: Annotated[
        float, typer.Option(help="seconds before pg_receivewal is started again (doubling)")
    ] = 1.0,
    poll: Annotated[float, typer.Option(help="seconds between looks at the folder")] = 0.2,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Stream WAL with pg_receivewal; completed segments go to the repository via the spool.

    Runs until stopped (SIGTERM), starting pg_receivewal again when it ends; a missing
    slot (35), a refused replication connection (35) or WAL the server removed before it
    was received (36, a gap) end it with an error instead.
    """
    import signal

    from drkit.services.wal_receive import ReceiveRequest
    from drkit.services.wal_receive import receive_wal as service

    state: State = ctx.obj
    output = state.output_for(json_output)
    request = ReceiveRequest(
        dsn, directory, spool, slot=slot, create_slot=create_slot, synchronous=synchronous,
        push=push, workers=workers, pg_password_file=pg_password_file, bin_dir=bin_dir,
        restart_delay=restart_delay, poll=poll,
    )  # fmt: skip
    stop = {"now": False}

    def _stop(signum: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    result = service(state.use(), request, lambda: stop["now"])
    if output.json:
        print_json(asdict(result))
    elif not output.quiet:
        out.print(
            f"receive-wal: {result.handed_off_total} WAL file(s) handed to the spool, "
            f"{result.restarts} restart(s) of pg_receivewal; partial segment {result.partial}",
            markup=False,
        )


# -- pg basebackup ------------------------------------------------------------------
@pg_app.command("basebackup")
def basebackup(
    ctx: typer.Context,
    dsn: Annotated[str, typer.Option(help="the server, e.g. 'host=db1 user=replicator'")],
    pg_password_file: Annotated[
        Path | None, typer.Option(help="file holding the PostgreSQL password")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="tag the snapshot")] = None,
    host: Annotated[str | None, typer.Option(help="host name recorded in the snapshot")] = None,
    checkpoint: Annotated[str, typer.Option(help="fast or spread")] = "fast",
    archive_timeout: Annotated[
        float, typer.Option(help="seconds to wait for the backup's WAL in the archive")
    ] = 60.0,
    bin_dir: Annotated[Path | None, typer.Option(help="folder of pg_basebackup")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Take a physical base backup with pg_basebackup, streamed into the repository."""
    from pydantic import ValidationError

    from drkit.repository.locks import RepoLock
    from drkit.sources.base import BackupRequest
    from drkit.sources.postgres_physical import PostgresPhysicalConfig, PostgresPhysicalSource

    state: State = ctx.obj
    output = state.output_for(json_output)
    try:
        config = PostgresPhysicalConfig(
            dsn=dsn,
            password_file=pg_password_file,
            bin_dir=bin_dir,
            checkpoint=checkpoint,
            archive_timeout=archive_timeout,
        )
    except ValidationError as exc:
        raise UsageError(f"invalid option: {exc.errors()[0]['msg']}") from None
    repo = state.open_repo()
    with output.progress() as progress:
        request = BackupRequest([repo], tags=[*(tag or [])], host=host, progress=Counter(progress))
        with RepoLock(repo, exclusive=False, operation="backup"):
            snap = PostgresPhysicalSource(config).backup(request)[0]
    meta = {k.split(".", 1)[1]: v for k, v in snap.meta.items() if k.startswith("postgres-")}
    if output.json:
        print_json(
            {"snapshot": snap.id, "time": snap.time, "size": snap.summary.bytes_total, **meta}
        )
    elif not output.quiet:
        out.print(
            f"base backup {snap.short_id} saved: {human_bytes(snap.summary.bytes_total)} "
            f"({human_bytes(snap.summary.data_added_stored)} stored) in "
            f"{snap.summary.duration_s:.1f} s; WAL {meta['start_lsn']} .. {meta['stop_lsn']} "
            f"on timeline {meta['timeline']}",
            markup=False,
        )


# -- pg check ---------------------------------------------------------------------------
@pg_app.command("check")
def check(
    ctx: typer.Context,
    dsn: Annotated[str, typer.Option(help="the server, e.g. 'host=db1 user=postgres'")],
    pg_password_file: Annotated[
        Path | None, typer.Option(help="file holding the PostgreSQL password")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the segment")] = 60.0,
    spool: Annotated[
        Path | None, typer.Option(help="the spool of asynchronous archiving: report its lag")
    ] = None,
    reprove_after: Annotated[
        str | None,
        typer.Option(
            help="read again WAL proved intact longer ago than this (e.g. 7d), so a segment "
            "damaged since is a gap"
        ),
    ] = None,
    read_data: Annotated[
        bool, typer.Option("--read-data", help="read again every WAL segment of the chain")
    ] = False,
    receive_dir: Annotated[
        Path | None,
        typer.Option(help="the folder of pg receive-wal: report its streaming lag"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Force a WAL switch on the server and wait until that segment is in the repository."""
    from drkit.services.wal_recovery import cluster_recovery, ledger_of
    from drkit.sources.postgres_conn import PgAddress
    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_archive_check import WalArchiveStalled, check_archiving
    from drkit.sources.wal_errors import ChainBroken

    state: State = ctx.obj
    output = state.output_for(json_output)
    reprove_before = _reprove_before(reprove_after, read_data)  # a bad age fails first
    address = PgAddress.parse(dsn, pg_password_file)
    if not address.dbname:
        address = address.with_database("postgres")
    repo = state.open_repo(load_index=False)
    pusher = _spool_report(spool) if spool is not None else None
    receiver = _receiver_report(receive_dir) if receive_dir is not None else None
    try:
        result = check_archiving(address, WalArchive(repo), timeout=timeout)
    except WalArchiveStalled as exc:
        if receive_dir is not None:
            now_r = _receiver_report(receive_dir)
            raise WalArchiveStalled(
                f"{exc.message}; pg receive-wal "
                + ("runs" if now_r.get("running") else "is not running")
                + f", its latest failures: {'; '.join(now_r.get('errors') or []) or 'none'}",
                hint="is `drkit pg receive-wal` running on this folder (and its pusher)?",
            ) from None
        if spool is None:
            raise
        now = _spool_report(spool)
        raise WalArchiveStalled(
            f"{exc.message}; the spool holds {now['pending']} file(s), the oldest waiting "
            f"{now['oldest_age_s']:.0f} s",
            hint="is `drkit pg archive-pusher` running on this spool? its last error: "
            f"{now['last_error'] or 'none'}",
        ) from None
    measured = cluster_recovery(
        repo,
        result.system_id,
        ledger_of(_catalog_or_none(state)),
        reprove_before=reprove_before,
    )
    point = measured.points[0]
    if output.json:
        print_json(
            {
                **asdict(result),
                "system_id": str(result.system_id),
                "recovery_point": point.to_json(),
                "wal_read": measured.read,
                "wal_reproved": measured.reproved,
                "wal_damaged": measured.damaged,
                "wal_unproved": measured.unproved,
                **({"spool": pusher} if pusher is not None else {}),
                **({"receiver": receiver} if receiver is not None else {}),
            }
        )
    elif not output.quiet:
        out.print(
            f"archiving works: WAL segment {result.segment} of cluster {result.system_id} "
            f"reached the repository {result.seconds:.1f} s after pg_switch_wal()",
            markup=False,
        )
        out.print(point.sentence(), markup=False)
        for name, why in sorted(measured.damaged.items()):
            was = (
                " (it was proved intact before: proof withdrawn)"
                if name in measured.unproved
                else ""
            )
            err.print(f"[red]damaged:[/] {why}{was}", highlight=False)
        if receiver is not None:
            out.print(_receiver_line(receiver), markup=False)
        if pusher is not None:
            out.print(
                f"spool: {pusher['pending']} file(s) waiting, the oldest for "
                f"{pusher['oldest_age_s']:.1f} s; last pushed {pusher['last_pushed']}",
                markup=False,
            )
    if point.gap:  # archiving works, but recovery stops at a missing or damaged segment
        raise ChainBroken(
            point.sentence(),
            hint="drkit check --chain reports every gap; a new base backup starts a chain past it",
        )


def _receiver_report(directory: Path) -> dict[str, Any]:
    """What pg receive-wal last wrote in its folder (``seen`` False: it never ran there)."""
    from drkit.sources.wal_receive_run import read_receiver_state

    found = read_receiver_state(directory)
    return {**(asdict(found) if found is not None else {}), "seen": found is not None}


def _receiver_line(doc: dict[str, Any]) -> str:
    if not doc["seen"]:
        return "streaming: no pg receive-wal has run on this folder"
    lag = doc.get("lag_bytes")
    state = "runs" if doc.get("running") else "is NOT running"
    return (
        f"streaming: pg_receivewal {state}; segment {doc.get('partial')} received for "
        f"{doc.get('partial_age_s', 0):.1f} s (not yet in the repository); "
        + (f"{human_bytes(lag)} behind the server" if lag is not None else "lag unknown")
        + f"; {doc.get('restarts', 0)} restart(s)"
    )


def _reprove_before(reprove_after: str | None, read_data: bool) -> datetime | None:
    """The instant before which a WAL proof is not trusted (None: every proof is)."""
    from datetime import UTC, datetime

    from drkit.settings.objectives import parse_objective

    if read_data:
        return datetime.max.replace(tzinfo=UTC)
    if reprove_after is None:
        return None
    return datetime.now(UTC) - parse_objective(reprove_after)


def _spool_report(spool: Path) -> dict[str, Any]:
    """The spool as it is now, with what its pusher last wrote (lag, errors)."""
    from drkit.sources.wal_spool import PusherState, count, read_state

    written = read_state(spool)
    now = count(spool, PusherState()) if spool.is_dir() else PusherState()
    doc = asdict(written or PusherState())
    doc.update(pending=now.pending, pending_bytes=now.pending_bytes, oldest_age_s=now.oldest_age_s)
    doc["pusher_seen"] = written is not None
    return doc


def _catalog_or_none(state: State) -> Catalog | None:
    """The catalog that remembers proved WAL; without one every segment is read."""
    try:
        return state.catalog()
    except DrkitError:
        return None


# -- pg backups -------------------------------------------------------------------------
@pg_app.command("backups")
def backups(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="print the list as JSON")] = False,
) -> None:
    """List the base backups in the repository, oldest first."""
    from drkit.sources.postgres_physical_meta import physical_backups

    state: State = ctx.obj
    output = state.output_for(json_output)
    repo = state.open_repo(load_index=False)
    found, _bad = physical_backups(repo.snapshots(on_damaged=lambda *_: None))
    rows = [_backup_row(b) for b in found]
    if output.json:
        print_json(rows)
        return
    for row in rows:
        out.print(
            f"{row['short_id']}  {row['stop_time']}  cluster {row['system_id']}  "
            f"timeline {row['timeline']}  {row['start_lsn']} .. {row['stop_lsn']}  "
            f"{human_bytes(row['size'])}",
            markup=False,
        )


@pg_app.command("expire-wal")
def expire_wal(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would go")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Remove archived WAL older than every base backup left (run after forget)."""
    from drkit.repository.locks import RepoLock
    from drkit.sources.postgres_physical_meta import physical_backups
    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_expiry import plan_expiry
    from drkit.storage.base import FileKind

    state: State = ctx.obj
    output = state.output_for(json_output)
    repo = state.open_repo(load_index=False)
    with RepoLock(repo, exclusive=False, operation="expire-wal"):
        found, _bad = physical_backups(repo.snapshots(on_damaged=lambda *_: None))
        plan = plan_expiry(WalArchive(repo).list(), found)
        for file in [] if dry_run else plan.remove:
            repo.backend.remove(FileKind.WAL, file.object_name)
    removed_bytes = sum(f.stored_size for f in plan.remove)
    doc = {
        "dry_run": dry_run,
        "removed": [f.name for f in plan.remove],
        "bytes": removed_bytes,
        "kept": plan.kept,
        "keep_from": {str(k): v for k, v in plan.keep_from.items()},
    }
    if output.json:
        print_json(doc)
        return
    verb = "would remove" if dry_run else "removed"
    if dry_run and not output.quiet:
        for file in plan.remove:
            out.print(f"would remove {file.name} (cluster {file.system_id})", markup=False)
    out.print(
        f"{verb} {len(plan.remove)} WAL files ({human_bytes(removed_bytes)}); kept {plan.kept}"
        + "".join(f"; cluster {k} from {v}" for k, v in plan.keep_from.items())
    )


def _backup_row(backup: PhysicalBackup) -> dict[str, Any]:
    from drkit.sources.wal_names import format_lsn

    info, snap = backup.info, backup.snapshot
    return {
        "id": snap.id,
        "short_id": snap.short_id,
        "host": snap.hostname,
        "system_id": str(info.system_identifier),
        "timeline": info.timeline,
        "start_lsn": format_lsn(info.start_lsn),
        "stop_lsn": format_lsn(info.stop_lsn),
        "start_time": info.start_time.isoformat(),
        "stop_time": info.stop_time.isoformat(),
        "size": snap.summary.bytes_total,
    }


# -- pg restore ---------------------------------------------------------------------------
@pg_app.command("restore")
def restore(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="the data directory to create")],
    target_time: Annotated[
        str | None, typer.Option(help="recover to this instant (ISO 8601 with a zone)")
    ] = None,
    target_lsn: Annotated[str | None, typer.Option(help="recover to this LSN")] = None,
    latest: Annotated[bool, typer.Option(help="recover to the end of the WAL (default)")] = False,
    target_timeline: Annotated[
        str | None, typer.Option(help="latest (default), current, or a number")
    ] = None,
    snapshot: Annotated[str | None, typer.Option(help="use this base backup (id prefix)")] = None,
    system_id: Annotated[int | None, typer.Option(help="the cluster, if several")] = None,
    force: Annotated[bool, typer.Option(help="empty a non-empty target first")] = False,
    keep_archiving: Annotated[
        bool, typer.Option(help="leave archive_mode as backed up (default: off)")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Build a data directory that recovers to a point in time, from a base backup plus WAL."""
    from drkit.repository.locks import RepoLock
    from drkit.sources.pitr import RecoveryTarget, plan_restore
    from drkit.sources.pitr_restore import restore_plan
    from drkit.sources.wal_inventory import archive_state

    if latest and (target_time or target_lsn):
        raise UsageError("--latest excludes --target-time and --target-lsn")
    state: State = ctx.obj
    output = state.output_for(json_output)
    target = RecoveryTarget.parse(target_time, target_lsn, target_timeline)
    repo = state.open_repo()
    with output.progress() as progress, RepoLock(repo, exclusive=False, operation="restore"):
        candidates = _candidates(repo, snapshot, system_id)
        info = candidates[0].info
        archive = archive_state(repo, info.system_identifier, info.wal_segment_size)
        plan = plan_restore(candidates, target, archive)
        done = restore_plan(
            repo,
            plan,
            to.absolute(),
            _fetch_access(state, info.system_identifier),
            force=force,
            keep_archiving=keep_archiving,
            progress=Counter(progress),
            verify_progress=Counter(progress),
        )
    _report_restore(done, plan.target.describe(), plan.timelines, output)


def _candidates(
    repo: Repository, snapshot: str | None, system_id: int | None
) -> list[PhysicalBackup]:
    from drkit.repository.snapshot import find_snapshot
    from drkit.sources.postgres_physical_meta import physical_backups
    from drkit.sources.wal_errors import NoBaseBackup

    snaps = repo.snapshots(on_damaged=lambda *_: None)
    found, _bad = physical_backups(snaps)
    if snapshot is not None:
        chosen = find_snapshot(snaps, snapshot).id
        found = [b for b in found if b.snapshot.id == chosen]
    if system_id is not None:
        found = [b for b in found if b.info.system_identifier == system_id]
    clusters = sorted({b.info.system_identifier for b in found})
    if not found:
        raise NoBaseBackup("the repository holds no matching PostgreSQL base backup")
    if len(clusters) > 1:
        raise UsageError(
            f"the repository holds base backups of {len(clusters)} clusters",
            hint="choose one with --system-id: " + ", ".join(map(str, clusters)),
        )
    return found


def _fetch_access(state: State, system_id: int) -> FetchAccess:
    """How the restored server reaches this repository: the way this command did."""
    from drkit.sources.pitr_restore import FetchAccess

    ref = state.repo or os.environ.get("DRKIT_REPO", "")
    named = state.named_repository(ref)
    if named is not None and (named.password_file or named.password_command):
        assert state.settings_file is not None
        return FetchAccess(ref, system_id, config=state.settings_file.absolute())
    config = state.settings_file.absolute() if named is not None and state.settings_file else None
    if named is None and "://" not in ref and not ref.startswith("memory:"):
        ref = str(Path(ref).expanduser().absolute())  # the server runs it from another folder
    env_file = os.environ.get("DRKIT_PASSWORD_FILE")
    pw_file = state.password_file or (Path(env_file) if env_file else None)
    if "DRKIT_PASSWORD" not in os.environ and pw_file is not None:
        return FetchAccess(ref, system_id, config=config, password_file=pw_file.absolute())
    return FetchAccess(ref, system_id, config=config, password=state.password())


def _report_restore(
    done: RestoreOutcome, target: str, timelines: list[int], output: Output
) -> None:
    snap = done.backup.snapshot
    if output.json:
        print_json(
            {
                "datadir": str(done.datadir),
                "snapshot": snap.id,
                "target": target,
                "timelines": timelines,
                "files": done.members,
                "bytes": done.bytes,
                "settings": dict(done.settings),
                "notes": done.notes,
            }
        )
        return
    for note in done.notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False)
    if output.quiet:
        return
    out.print(
        f"restored base backup {snap.short_id} ({done.members} files, "
        f"{human_bytes(done.bytes)}) into {done.datadir}; it recovers to {target} along "
        f"timeline(s) {' -> '.join(map(str, timelines))}",
        markup=False,
    )
    out.print(f"start it with: pg_ctl -D {done.datadir} start", markup=False)
