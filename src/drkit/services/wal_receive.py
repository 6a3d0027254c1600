"""Streaming WAL with pg_receivewal as an operation: ``drkit pg receive-wal`` for every face.

:func:`receive_wal` checks the folders and the slot (creating it if asked),
runs the :class:`~drkit.sources.wal_receive_run.Receiver` until ``stopping()``
(pg_receivewal started again whenever it ends) and, unless ``push`` is off,
the archive pusher on the same spool beside it, so completed segments land in
the repository exactly as archived ones do. A gap in the stream (WAL the
server removed before it was received) is told to the alert notifiers at
once, then raised. The result is the receiver's state
(:class:`~drkit.sources.wal_receive.ReceiverState`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.errors import DrkitError, UsageError

if TYPE_CHECKING:
    from drkit.services.workspace import Workspace
    from drkit.sources.wal_receive import ReceiverState

log = logging.getLogger("drkit.wal")


@dataclass(frozen=True)
class ReceiveRequest:
    """Where to stream from and to, and how (``drkit pg receive-wal``'s options)."""

    dsn: str
    directory: Path
    spool: Path
    slot: str | None = None
    create_slot: bool = False
    synchronous: bool = False
    push: bool = True
    workers: int = 4
    pg_password_file: Path | None = None
    bin_dir: Path | None = None
    restart_delay: float = 1.0
    poll: float = 0.2


def receive_wal(
    workspace: Workspace, request: ReceiveRequest, stopping: Callable[[], bool]
) -> ReceiverState:
    """Stream until ``stopping()``; a missing slot, a refused connection or a gap raise."""
    from drkit.sources.postgres_conn import PgAddress
    from drkit.sources.wal_errors import SlotMissing, StreamGap
    from drkit.sources.wal_receive import ReceiveOptions
    from drkit.sources.wal_receive_run import Receiver, create_slot, server_facts

    _check(request)
    address = PgAddress.parse(request.dsn, request.pg_password_file)
    opts = ReceiveOptions(
        address.conninfo(), request.directory.absolute(), request.slot, request.synchronous,
        request.bin_dir,
    )  # fmt: skip
    if request.create_slot:
        create_slot(opts, address)
    query_address = address if address.dbname else address.with_database("postgres")
    system_id, slot_exists = server_facts(query_address, request.slot)
    if request.slot and not slot_exists:
        raise SlotMissing(
            f"the replication slot {request.slot!r} does not exist on {address.endpoint}: "
            "nothing is received",
            hint=f"pass --create-slot, or run SELECT pg_create_physical_replication_slot("
            f"'{request.slot}') on the server",
        )
    done = threading.Event()

    def ended() -> bool:
        return done.is_set() or stopping()

    pusher = _start_pusher(workspace, request, ended) if request.push else None
    receiver = Receiver(
        opts, query_address, request.spool.absolute(), system_id,
        restart_delay=request.restart_delay, poll=request.poll,
    )  # fmt: skip
    try:
        return receiver.run(stopping)
    except StreamGap as exc:
        _alert_gap(workspace, address.endpoint, exc)
        raise
    finally:
        done.set()
        if pusher is not None:
            pusher.join(timeout=120)


def _check(request: ReceiveRequest) -> None:
    for folder, what in ((request.directory, "--dir"), (request.spool, "--spool")):
        if not folder.is_dir():
            raise UsageError(f"{what} {folder} is not a folder", hint="create it (mkdir -p)")
    if request.create_slot and not request.slot:
        raise UsageError("--create-slot needs --slot NAME")


def _start_pusher(
    workspace: Workspace, request: ReceiveRequest, stopping: Callable[[], bool]
) -> threading.Thread:
    """The archive pusher on the spool in a thread, until ``stopping()``."""
    from drkit.sources.wal_archive import WalArchive
    from drkit.sources.wal_spool import run_pusher

    archive = WalArchive(workspace.open_repo(load_index=False))
    spool, workers = request.spool, request.workers

    def run() -> None:
        try:
            run_pusher(archive, spool, workers=workers, stopping=stopping)
            # the receiver stopped: what it spooled last goes too (else at the next start)
            run_pusher(archive, spool, workers=workers, once=True)
        except DrkitError as exc:  # the files wait in the spool (pg check --spool says so)
            log.error("the archive pusher stopped: %s", exc.message)
        except Exception:  # a bug: the receiver goes on, the files wait in the spool
            log.exception("the archive pusher stopped")

    thread = threading.Thread(target=run, name="drkit-pusher", daemon=True)
    thread.start()
    return thread


def _alert_gap(workspace: Workspace, endpoint: str, exc: DrkitError) -> None:
    """A gap in streamed WAL is an incident: tell the alert notifiers now."""
    from drkit.notify.base import Severity
    from drkit.notify.immediate import notify_now

    notify_now(
        workspace.settings,
        dedup_key=f"wal-stream-gap:{endpoint}",
        severity=Severity.CRITICAL,
        summary=exc.message,
        source=f"pg receive-wal from {endpoint}",
        details=(("hint", exc.hint),),
    )
