"""The streaming receiver: pg_receivewal kept running, its completed files handed off.

One loop, a round every ``poll`` seconds: hand each completed file of the
folder to the spool (durably, :func:`drkit.sources.wal_spool.spool_file`),
remove the segments handed off but the newest, write the state and metrics
files, and look at pg_receivewal. When it has ended, its standard error says
why (:func:`drkit.sources.wal_receive.classify`): a missing slot, a refused
replication connection or WAL the server already removed end the receiver
with an error that says so (restarting would only repeat it, or hide a
gap); anything else (the server restarting, the network) starts a new
pg_receivewal after a short, growing pause. It resumes from the partial
segment or after the newest kept segment, so the stream has no gap.

A stop (SIGTERM) sends SIGINT to pg_receivewal, which writes what it
received and leaves the partial segment for the next start.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO

from drkit.errors import DrkitError
from drkit.sources.errors import SourceToolMissing
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.wal_errors import ReceiveRefused, SlotMissing, StreamGap
from drkit.sources.wal_receive import (
    APPLICATION_NAME,
    METRICS_FILE,
    PACKAGE,
    STATE_FILE,
    Diagnosis,
    Failure,
    ReceiveOptions,
    ReceiverState,
    create_slot_argv,
    metrics_text,
    receivewal_argv,
    removable,
    scan,
)
from drkit.sources.wal_spool import spool_file

log = logging.getLogger("drkit.wal")

MAX_PAUSE_S = 30.0
STEADY_S = 10.0  # a pg_receivewal that ran this long resets the pause
LAG_EVERY_S = 1.0
STOP_WAIT_S = 30.0
KEEP_ERRORS = 5

_LAG = """
select (pg_current_wal_lsn() - write_lsn)::bigint, extract(epoch from write_lag)::float8
from pg_stat_replication where application_name = %s order by backend_start desc limit 1
"""


class Receiver:
    """pg_receivewal into ``opts.directory``, completed files into ``spool``."""

    def __init__(
        self,
        opts: ReceiveOptions,
        address: PgAddress,
        spool: Path,
        system_id: int,
        *,
        restart_delay: float = 1.0,
        poll: float = 0.2,
    ) -> None:
        self.opts, self.address, self.spool, self.system_id = opts, address, spool, system_id
        self.restart_delay, self.poll = restart_delay, poll
        self.state = ReceiverState(slot=opts.slot)
        self.handed_off: set[str] = set()
        self._partial_since: tuple[str, float] | None = None
        self._lag_conn: object | None = None
        self._lag_at = 0.0

    # -- the loop ---------------------------------------------------------------------
    def run(self, stopping: Callable[[], bool]) -> ReceiverState:
        """Receive until ``stopping()``; raises on a failure restarting cannot cure."""
        pause = self.restart_delay
        try:
            while not stopping():
                proc, tail, started = self._start()
                while proc.poll() is None and not stopping():
                    self._round()
                    time.sleep(self.poll)
                if stopping():
                    self._stop(proc)
                    self._round()
                    break
                self._round()  # what it completed before it ended goes to the spool first
                diagnosis = self._ended(proc, tail)
                pause = self.restart_delay if time.monotonic() - started > STEADY_S else pause
                self._wait(min(pause, MAX_PAUSE_S), stopping)
                pause = min(pause * 2, MAX_PAUSE_S)
                log.warning("pg_receivewal ended (%s); started again", diagnosis.detail)
                self.state.restarts += 1
        finally:
            self.state.running, self.state.pid = False, None
            self._observe()
            self._close_lag()
        return self.state

    def _start(self) -> tuple[subprocess.Popen[bytes], _Tail, float]:
        try:
            proc = subprocess.Popen(
                receivewal_argv(self.opts),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={**os.environ, **self.address.env()},
                start_new_session=True,  # our SIGTERM handler stops it, not the terminal
            )
        except FileNotFoundError:
            raise SourceToolMissing(
                f"{self.opts.tool()} is not installed or not on PATH", hint=f"install {PACKAGE}"
            ) from None
        assert proc.stderr is not None
        tail = _Tail(proc.stderr)
        tail.start()
        self.state.running, self.state.pid = True, proc.pid
        self._observe()
        return proc, tail, time.monotonic()

    def _ended(self, proc: subprocess.Popen[bytes], tail: _Tail) -> Diagnosis:
        """Why pg_receivewal ended; raises when it must not be started again."""
        code = proc.wait()
        text = tail.text()
        diagnosis = classify_exit(code, text)
        self.state.running, self.state.pid = False, None
        self.state.last_exit = diagnosis.detail
        self.state.errors = [*self.state.errors, diagnosis.detail][-KEEP_ERRORS:]
        self._observe()
        if diagnosis.failure is not Failure.TRANSIENT:
            log.warning("pg_receivewal said:\n%s", text)
        raise_if_fatal(diagnosis, self.opts.slot, self.address.endpoint)
        return diagnosis

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # it writes what it received, then exits 0
            try:
                proc.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @staticmethod
    def _wait(seconds: float, stopping: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while not stopping() and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- a round: hand off, tidy, observe ------------------------------------------------
    def _round(self) -> None:
        self.hand_off()
        self._observe()

    def hand_off(self) -> list[str]:
        """Spool every completed file not handed off yet; remove those no longer needed."""
        folder = scan(os.listdir(self.opts.directory))
        spooled = []
        for name in folder.completed:
            if name in self.handed_off:
                continue
            try:
                spool_file(
                    self.spool,
                    self.opts.directory / name,
                    pgdata=self.opts.directory,
                    system_id=self.system_id,
                )
            except DrkitError as exc:  # the spool is full or unwritable: kept, tried again
                self._note_error(f"cannot spool {name}: {exc.message}")
                break  # in WAL order: never hand off a later file before an earlier one
            self.handed_off.add(name)
            spooled.append(name)
            self.state.handed_off_total += 1
            if not name.endswith(".history"):
                self.state.last_completed = name
        for name in removable(scan(os.listdir(self.opts.directory)), self.handed_off):
            (self.opts.directory / name).unlink(missing_ok=True)
        self._note_partial(folder.partial)
        return spooled

    def _note_partial(self, partial: str | None) -> None:
        now = time.time()
        if partial is None:
            self._partial_since = None
            self.state.partial, self.state.partial_age_s = None, 0.0
            return
        name = partial.removesuffix(".partial")
        if self._partial_since is None or self._partial_since[0] != name:
            self._partial_since = (name, self._began(name, now))
        self.state.partial = name
        self.state.partial_age_s = max(now - self._partial_since[1], 0.0)

    def _began(self, name: str, now: float) -> float:
        """When the segment in progress began: when the one before it was completed (its
        last write), else now (the receiver did not see it begin)."""
        last = self.state.last_completed
        if last is None or last >= name:
            return now
        try:
            return min((self.opts.directory / last).stat().st_mtime, now)
        except OSError:
            return now

    def _note_error(self, text: str) -> None:
        log.error("%s", text)
        self.state.errors = [*self.state.errors, text][-KEEP_ERRORS:]

    def _observe(self) -> None:
        now = time.time()
        if now - self._lag_at >= LAG_EVERY_S:
            self._lag_at = now
            self._measure_lag()
        self.state.updated_at = now
        _write_small(self.opts.directory / STATE_FILE, json.dumps(asdict(self.state)))
        _write_small(self.opts.directory / METRICS_FILE, metrics_text(self.state))

    def _measure_lag(self) -> None:
        """How far behind the server this receiver is (pg_stat_replication); None when the
        server cannot say (down, or no privilege to read it)."""
        import psycopg

        try:
            if self._lag_conn is None:
                self._lag_conn = self.address.connect(timeout=5, autocommit=True)
            conn = self._lag_conn
            assert isinstance(conn, psycopg.Connection)
            row = conn.execute(_LAG, (APPLICATION_NAME,)).fetchone()
        except (DrkitError, psycopg.Error):
            self._close_lag()
            self.state.lag_bytes = self.state.write_lag_s = None
            return
        if row is None:
            self.state.lag_bytes = self.state.write_lag_s = None
            return
        self.state.lag_bytes = None if row[0] is None else max(int(row[0]), 0)
        self.state.write_lag_s = None if row[1] is None else float(row[1])

    def _close_lag(self) -> None:
        conn, self._lag_conn = self._lag_conn, None
        close = getattr(conn, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # closing a broken connection
                log.debug("closing the lag connection failed", exc_info=True)


def classify_exit(code: int, stderr: str) -> Diagnosis:
    """Why pg_receivewal ended: its message, or how it died."""
    from drkit.sources.wal_receive import classify

    diagnosis = classify(stderr)
    if diagnosis.failure is Failure.TRANSIENT and code < 0:
        name = signal.Signals(-code).name
        return Diagnosis(Failure.TRANSIENT, f"pg_receivewal was killed by {name}")
    return diagnosis


def raise_if_fatal(diagnosis: Diagnosis, slot: str | None, endpoint: str) -> None:
    """The failures that another pg_receivewal would only repeat."""
    words = diagnosis.detail
    if diagnosis.failure is Failure.SLOT_MISSING:
        raise SlotMissing(
            f"the replication slot {slot!r} does not exist on {endpoint}: nothing is received",
            hint=f"pass --create-slot, or run SELECT pg_create_physical_replication_slot("
            f"'{slot}') on the server",
        )
    if diagnosis.failure is Failure.SLOT_BUSY:
        raise ReceiveRefused(
            f"another receiver streams from the replication slot {slot!r} on {endpoint} ({words})",
            hint="stop the other pg_receivewal or standby, or give this one its own --slot",
        )
    if diagnosis.failure is Failure.REFUSED:
        raise ReceiveRefused(f"{endpoint} refuses the replication connection: {words}")
    if diagnosis.failure is Failure.WAL_REMOVED:
        raise StreamGap(
            f"the server {endpoint} removed WAL segment {diagnosis.segment} before it was "
            "received: the repository's WAL has a gap from that segment on, and no "
            "recovery can pass it"
        )


def create_slot(opts: ReceiveOptions, address: PgAddress) -> None:
    """Create ``opts.slot`` unless it exists; a refusal says why."""
    try:
        done = subprocess.run(
            create_slot_argv(opts),
            capture_output=True,
            text=True,
            env={**os.environ, **address.env()},
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise SourceToolMissing(
            f"{opts.tool()} is not installed or not on PATH", hint=f"install {PACKAGE}"
        ) from None
    if done.returncode != 0:
        diagnosis = classify_exit(done.returncode, done.stderr)
        raise_if_fatal(diagnosis, opts.slot, address.endpoint)
        raise ReceiveRefused(
            f"cannot create the replication slot {opts.slot!r} on {address.endpoint}: "
            f"{done.stderr.strip() or f'exit code {done.returncode}'}"
        )


def server_facts(address: PgAddress, slot: str | None) -> tuple[int, bool]:
    """The cluster's system identifier, and whether ``slot`` exists (False without one)."""
    query = (
        "select (select system_identifier from pg_control_system()), "
        "exists (select 1 from pg_replication_slots where slot_name = %s and slot_type = "
        "'physical')"
    )
    with address.connect(timeout=10) as conn:
        row = conn.execute(query, (slot or "",)).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


class _Tail(threading.Thread):
    """Keeps the last lines pg_receivewal wrote to its standard error (and logs them)."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__(daemon=True, name="drkit-receivewal-stderr")
        self._pipe = pipe
        self._lines: list[str] = []

    def run(self) -> None:
        for raw in iter(self._pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            log.info("%s", line)
            self._lines = [*self._lines, line][-50:]

    def text(self) -> str:
        self.join(timeout=5)
        return "\n".join(self._lines)


def _write_small(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_receiver_state(directory: Path) -> ReceiverState | None:
    """The receiver's last written state, if one ever ran on ``directory``."""
    try:
        doc = json.loads((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    fields = ReceiverState.__dataclass_fields__
    return ReceiverState(**{k: doc[k] for k in fields if k in doc})
