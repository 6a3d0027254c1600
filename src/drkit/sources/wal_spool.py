"""Asynchronous WAL archiving: a local spool that ``archive_command`` fills and a pusher drains.

``archive_command = 'drkit wal-push --spool /var/lib/drkit/spool %p'`` only
copies the finished WAL file into the spool, durably, and returns: no
repository is opened, no passphrase derived, nothing sent over a network.
PostgreSQL may recycle its segment as soon as the command succeeds, so the
copy is written to a temporary name, fsynced, renamed into place and the
folder fsynced before it returns 0; any failure returns non-zero and
PostgreSQL keeps the segment and retries.

``drkit pg archive-pusher --spool DIR`` (a long-running process beside the
server, e.g. a systemd unit) sends the spooled files to the repository with
several workers, oldest first (timeline history files before segments: a
restore needs them first), and deletes a spooled file only after the
repository has it stored (:meth:`WalArchive.push` returns only once the
object is written whole). A pusher killed mid-push leaves the file in the
spool; the next one pushes it again, which the archive takes as the no-op
"already archived" when the first push had completed. Each round it writes
its state (files waiting, age of the oldest, last push, last error) to
``DIR/.pusher.json`` and a Prometheus text file ``DIR/.pusher.prom``
(node_exporter's textfile collector format) for ``pg check`` and monitoring.

Spool file names are archive object names, ``<system id>-<WAL file name>``,
so the cluster is resolved once, at spool time, from the file itself or
``global/pg_control`` in the data directory (PostgreSQL's working directory).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from drkit.errors import DrkitError, UsageError
from drkit.sources.wal_archive import WalArchive, object_name, split_object_name, validate_name
from drkit.sources.wal_names import WalFileKind
from drkit.sources.wal_push import resolve_system_id

log = logging.getLogger("drkit.wal")

TMP_PREFIX = ".spool-"
STATE_FILE = ".pusher.json"
METRICS_FILE = ".pusher.prom"


@dataclass(frozen=True)
class Spooled:
    name: str  # the WAL file name
    system_id: int
    size: int
    seconds: float


def spool_file(spool: Path, path: Path, *, pgdata: Path, system_id: int | None = None) -> Spooled:
    """Copy the WAL file at ``path`` into ``spool`` durably; return once it is safe there."""
    started = time.monotonic()
    parsed = validate_name(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    sysid = resolve_system_id(parsed, data, pgdata=pgdata, explicit=system_id)
    target = spool / object_name(sysid, path.name)
    if _same_content(target, data):
        return Spooled(path.name, sysid, len(data), time.monotonic() - started)
    _write_durably(target, data)
    return Spooled(path.name, sysid, len(data), time.monotonic() - started)


def _same_content(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError:
        return False


def _write_durably(target: Path, data: bytes) -> None:
    tmp = target.with_name(f"{TMP_PREFIX}{target.name}-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(
            f"cannot spool {target.name} into {target.parent}: {exc.strerror}",
            hint="the spool folder must exist and be writable by the user PostgreSQL runs as",
        ) from exc


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolError(DrkitError):
    code = "wal-spool-failed"
    exit_code = 29


# -- the pusher -------------------------------------------------------------------------
def pending(spool: Path) -> list[Path]:
    """The spooled files in the order they are needed: histories, then by WAL name."""
    found = []
    for entry in os.scandir(spool):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        split = split_object_name(entry.name)
        if split is None:
            log.warning("ignoring %s in the WAL spool: not a spooled WAL file", entry.name)
            continue
        wal_name = entry.name.partition("-")[2]
        found.append((split[1].kind is not WalFileKind.HISTORY, wal_name, Path(entry.path)))
    return [p for *_, p in sorted(found)]


@dataclass
class PusherState:
    """What the pusher last saw and did: written each round for pg check and metrics."""

    pending: int = 0
    pending_bytes: int = 0
    oldest_age_s: float = 0.0  # how long the oldest waiting file has been in the spool
    pushed_total: int = 0
    pushed_bytes_total: int = 0
    last_pushed: str | None = None
    last_push_at: float | None = None  # unix time
    last_error: str | None = None
    updated_at: float = field(default_factory=time.time)


def push_spooled(archive: WalArchive, path: Path) -> int:
    """Push one spooled file, then remove it from the spool; its size."""
    split = split_object_name(path.name)
    assert split is not None
    data = path.read_bytes()
    archive.push(split[0], path.name.partition("-")[2], data)  # raises unless the object is stored
    path.unlink()
    _fsync_dir(path.parent)
    return len(data)


def push_round(
    archive: WalArchive, spool: Path, pool: ThreadPoolExecutor, state: PusherState
) -> int:
    """Push every file waiting now, ``pool``'s workers at once, oldest first; files pushed."""
    todo = pending(spool)
    done = 0
    for path, outcome in zip(todo, pool.map(lambda p: _try_push(archive, p), todo), strict=True):
        if isinstance(outcome, str):
            state.last_error = f"{path.name}: {outcome}"
            log.error("cannot push %s from the spool (kept, retried): %s", path.name, outcome)
            continue
        done += 1
        state.pushed_total += 1
        state.pushed_bytes_total += outcome
        state.last_pushed, state.last_push_at = path.name, time.time()
    return done


def _try_push(archive: WalArchive, path: Path) -> int | str:
    try:
        return push_spooled(archive, path)
    except DrkitError as exc:
        return exc.message
    except OSError as exc:
        return f"{exc.strerror or exc}"


def observe(spool: Path, state: PusherState) -> PusherState:
    """Count what waits in the spool and write the state and metrics files (the pusher)."""
    count(spool, state)
    _write_small(spool / STATE_FILE, json.dumps(asdict(state)))
    _write_small(spool / METRICS_FILE, metrics_text(state))
    return state


def count(spool: Path, state: PusherState, now: float | None = None) -> PusherState:
    """Fill ``state`` with what waits in the spool now: files, bytes, the oldest's age."""
    now = time.time() if now is None else now
    files = pending(spool)
    sizes, ages = [], []
    for p in files:
        try:
            st = p.stat()
        except FileNotFoundError:
            continue  # pushed meanwhile
        sizes.append(st.st_size)
        ages.append(now - st.st_mtime)
    state.pending, state.pending_bytes = len(sizes), sum(sizes)
    state.oldest_age_s = max(ages, default=0.0)
    state.updated_at = now
    return state


def _write_small(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def metrics_text(state: PusherState) -> str:
    lines = [
        "# HELP drkit_wal_spool_pending WAL files waiting in the spool",
        "# TYPE drkit_wal_spool_pending gauge",
        f"drkit_wal_spool_pending {state.pending}",
        "# HELP drkit_wal_spool_pending_bytes bytes of WAL waiting in the spool",
        "# TYPE drkit_wal_spool_pending_bytes gauge",
        f"drkit_wal_spool_pending_bytes {state.pending_bytes}",
        "# HELP drkit_wal_spool_lag_seconds age of the oldest WAL file waiting in the spool",
        "# TYPE drkit_wal_spool_lag_seconds gauge",
        f"drkit_wal_spool_lag_seconds {state.oldest_age_s:.3f}",
        "# HELP drkit_wal_pushed_total WAL files pushed from the spool by this pusher",
        "# TYPE drkit_wal_pushed_total counter",
        f"drkit_wal_pushed_total {state.pushed_total}",
    ]
    return "\n".join(lines) + "\n"


def read_state(spool: Path) -> PusherState | None:
    """The pusher's last written state, if a pusher ever ran on ``spool``."""
    try:
        doc = json.loads((spool / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return PusherState(**{k: doc[k] for k in PusherState.__dataclass_fields__ if k in doc})


def run_pusher(
    archive: WalArchive,
    spool: Path,
    *,
    workers: int = 4,
    poll: float = 0.5,
    once: bool = False,
    stopping: Callable[[], bool] = lambda: False,
) -> PusherState:
    """Drain the spool until stopped (``once``: until it is empty, then return)."""
    state = PusherState()
    with ThreadPoolExecutor(workers, thread_name_prefix="drkit-push") as pool:
        while not stopping():
            pushed = push_round(archive, spool, pool, state)
            observe(spool, state)
            if once and state.pending == 0:
                break
            if once and pushed == 0:
                raise SpoolError(
                    f"{state.pending} WAL file(s) could not be pushed: {state.last_error}",
                    hint="they stay in the spool; fix the cause and run the pusher again",
                )
            if pushed == 0:
                time.sleep(poll)
    return state
