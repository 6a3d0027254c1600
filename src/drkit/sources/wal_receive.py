"""Streaming WAL with ``pg_receivewal``: its command line, its failures, its folder.

``drkit pg receive-wal`` (:mod:`drkit.sources.wal_receive_run`) keeps a
``pg_receivewal`` running into a local folder. pg_receivewal writes the
segment in progress as ``<name>.partial`` and renames it to ``<name>`` when
it is complete; each completed file (segments, timeline histories) is handed
to the spool of asynchronous archiving (:mod:`drkit.sources.wal_spool`), so
it reaches the repository exactly as an archived segment does: same object
name, same encryption, same proofs.

The folder keeps the newest completed segment after its hand-off: on a
restart pg_receivewal resumes after the newest segment it finds, so the
stream continues with no gap (and a segment already handed off is only
spooled again, a no-op in the archive).

This module is pure: the argv, what a failure's message means
(:func:`classify`), which files are ready (:func:`ready`) and which may go
(:func:`removable`). The process and the loop are in ``wal_receive_run``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from drkit.sources.wal_names import WalFileKind, parse_wal_name

APPLICATION_NAME = "drkit-receivewal"  # pg_stat_replication.application_name
PACKAGE = "postgresql-client (the version of the server or newer)"
STATE_FILE = ".receiver.json"
METRICS_FILE = ".receiver.prom"


@dataclass(frozen=True)
class ReceiveOptions:
    """What the receiver runs: the server, the folder, the slot."""

    conninfo: str  # without the password (it goes in the environment)
    directory: Path
    slot: str | None = None
    synchronous: bool = False
    bin_dir: Path | None = None
    status_interval: int = 1  # seconds between feedback messages to the server

    def tool(self) -> str:
        return str(self.bin_dir / "pg_receivewal") if self.bin_dir else "pg_receivewal"


def receivewal_argv(opts: ReceiveOptions) -> list[str]:
    """pg_receivewal streaming into the folder; ``--no-loop``: drkit restarts it itself, so
    it sees every failure (a missing slot, a refusal, a gap) instead of a silent retry."""
    conninfo = f"{opts.conninfo} application_name={APPLICATION_NAME}"
    argv = [opts.tool(), "-D", str(opts.directory), "-d", conninfo, "--no-loop", "--no-password"]
    argv += ["--status-interval", str(opts.status_interval), "--verbose"]
    if opts.slot:
        argv += ["--slot", opts.slot]
    if opts.synchronous:
        argv.append("--synchronous")
    return argv


def create_slot_argv(opts: ReceiveOptions) -> list[str]:
    """Create the physical replication slot unless it exists (pg_receivewal does it)."""
    assert opts.slot
    return [opts.tool(), "-d", opts.conninfo, "--no-password", "--slot", opts.slot,
            "--create-slot", "--if-not-exists"]  # fmt: skip


class Failure(StrEnum):
    SLOT_MISSING = "slot-missing"  # fatal: nothing streams until the slot exists
    SLOT_BUSY = "slot-busy"  # fatal: another receiver holds the slot
    REFUSED = "refused"  # fatal: the server does not allow this replication connection
    WAL_REMOVED = "wal-removed"  # fatal: the server recycled WAL not received yet: a gap
    TRANSIENT = "transient"  # the server is down, restarting, the network: try again


@dataclass(frozen=True)
class Diagnosis:
    failure: Failure
    detail: str  # the server's words (the matching line), for the message
    segment: str | None = None  # WAL_REMOVED: the first segment the archive now lacks


_RULES: tuple[tuple[Failure, re.Pattern[str]], ...] = (
    (Failure.WAL_REMOVED,
     re.compile(r"requested WAL segment ([0-9A-F]{24}) has already been removed")),
    (Failure.SLOT_MISSING, re.compile(r'replication slot "[^"]*" does not exist')),
    (Failure.SLOT_BUSY, re.compile(r'replication slot "[^"]*" is active for PID \d+')),
    (Failure.REFUSED, re.compile(
        r"no pg_hba\.conf entry for replication connection[^\n]*"
        r"|must be superuser or replication role[^\n]*"
        r"|permission denied to start WAL sender[^\n]*"
        r"|number of requested standby connections exceeds max_wal_senders[^\n]*"
        r"|password authentication failed[^\n]*"
        r"|role \"[^\"]*\" does not exist"
        r"|role \"[^\"]*\" is not permitted to log in"
        r"|fe_sendauth: no password supplied"
    )),
)  # fmt: skip


def classify(stderr: str) -> Diagnosis:
    """What ended pg_receivewal, from its standard error (pure)."""
    for failure, pattern in _RULES:
        found = pattern.search(stderr)
        if found:
            segment = found.group(1) if failure is Failure.WAL_REMOVED else None
            return Diagnosis(failure, found.group(0), segment)
    lines = [line for line in stderr.splitlines() if "error" in line or "FATAL" in line]
    return Diagnosis(Failure.TRANSIENT, (lines or stderr.splitlines() or ["no message"])[-1])


@dataclass(frozen=True)
class Folder:
    """What pg_receivewal's folder holds now."""

    completed: tuple[str, ...]  # segments and timeline histories, histories first, WAL order
    partial: str | None  # the segment in progress (``<name>.partial``), newest if several


def scan(names: list[str]) -> Folder:
    """Sort a listing of the folder (pure): completed files and the partial segment."""
    done: list[tuple[bool, str]] = []
    partials = []
    for name in names:
        parsed = None if name.startswith(".") else parse_wal_name(name)
        if parsed is None:
            continue  # pg_receivewal's temporary files, our state files, anything else
        if parsed.kind is WalFileKind.PARTIAL:
            partials.append(name)
        elif parsed.kind in (WalFileKind.SEGMENT, WalFileKind.HISTORY):
            done.append((parsed.kind is not WalFileKind.HISTORY, name))
    return Folder(tuple(n for _, n in sorted(done)), max(partials, default=None))


def removable(folder: Folder, handed_off: set[str]) -> list[str]:
    """Completed segments handed off that may leave the folder: all but the newest segment
    (pg_receivewal resumes after it) and the timeline histories (small; it looks for them)."""
    segments = [n for n in folder.completed if not n.endswith(".history")]
    keep = max(segments, default=None)
    return [n for n in segments if n != keep and n in handed_off]


@dataclass
class ReceiverState:
    """What the receiver last saw and did, written each round for pg check and metrics."""

    running: bool = False
    pid: int | None = None
    restarts: int = 0  # pg_receivewal processes started after the first
    last_exit: str | None = None  # how the previous pg_receivewal ended
    partial: str | None = None  # the segment being received
    partial_age_s: float = 0.0  # since the partial segment began: WAL not yet handed off
    last_completed: str | None = None
    handed_off_total: int = 0
    # the server's current WAL position minus what pg_receivewal wrote here (it fsyncs a
    # segment when complete, or each write with --synchronous)
    lag_bytes: int | None = None
    write_lag_s: float | None = None  # pg_stat_replication.write_lag
    slot: str | None = None
    updated_at: float = 0.0
    errors: list[str] = field(default_factory=list)  # the latest failures, newest last


def metrics_text(state: ReceiverState) -> str:
    """The state in Prometheus text format (node_exporter's textfile collector)."""
    rows = [
        ("drkit_wal_receiver_up", "1 while pg_receivewal runs", int(state.running), "gauge"),
        ("drkit_wal_receiver_partial_age_seconds",
         "age of the WAL segment being received (not yet in the repository)",
         f"{state.partial_age_s:.3f}", "gauge"),
        ("drkit_wal_receiver_restarts_total", "pg_receivewal restarts", state.restarts, "counter"),
        ("drkit_wal_receiver_handed_off_total", "completed WAL files handed to the spool",
         state.handed_off_total, "counter"),
    ]  # fmt: skip
    if state.lag_bytes is not None:
        rows.append(("drkit_wal_receiver_lag_bytes", "WAL the server wrote that is not "
                     "received here yet", state.lag_bytes, "gauge"))  # fmt: skip
    lines = []
    for name, text, value, kind in rows:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"
