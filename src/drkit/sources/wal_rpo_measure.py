"""Measuring each cluster's recovery point in a repository, cheaply and without overstating it.

The archive is listed (names and sizes only: one listing, no object read),
so a missing segment is seen at once. Every segment the best chain replays
must also be intact: each one is read whole and authenticated once in its
life, and a :class:`WalLedger` (the catalog's ``wal_verified`` table)
remembers it with its stored size and commit time. A later measurement
reads only the segments archived since, so its cost follows the WAL rate,
not the archive's size.

Why the ledger stays truthful: WAL objects are only added (a push never
replaces stored content, prune never touches ``wal/``), a remembered object
counts only while the listing shows it with the same size, and a segment
deleted later is a gap in the next listing whatever the ledger says. Decay
of a byte after it was proved (same name, same size) is what a listing cannot
see: a proof older than ``reprove_before`` is not trusted but read again (the
daemon's archive check passes its ``wal_reprove`` age, so each object is read
again once per that period; ``pg check --read-data`` reads every one), and a
proof that no longer holds is withdrawn from the ledger and the segment is a
gap (:attr:`Measurement.unproved`), until it reads intact again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from drkit.errors import ObjectNotFound
from drkit.repository.repo import Repository
from drkit.sources.postgres_physical_meta import PhysicalBackup
from drkit.sources.wal_archive import ArchivedFile, WalArchive
from drkit.sources.wal_chain import ArchiveState
from drkit.sources.wal_format import WalFormatError, WalHeader, open_wal
from drkit.sources.wal_inventory import archive_state
from drkit.sources.wal_names import WalFileKind
from drkit.sources.wal_records import unix_ns_time
from drkit.sources.wal_rpo import RecoveryPoint, recovery_point, segments_to_read
from drkit.storage.base import FileKind

READERS = 4  # segments read and authenticated at once


@dataclass(frozen=True)
class ProvedWal:
    """One WAL object read whole and found intact."""

    name: str  # the object name, <system id>-<file name>
    size: int  # its stored size when proved: another size is another object
    last_xact_ns: int  # its latest commit time (0: none); -1: unknown (v1 header)
    proved_at: datetime | None = field(default=None, compare=False)  # None: just now


class WalLedger(Protocol):
    def proved(self, repository_id: str) -> Mapping[str, ProvedWal]:
        """Object name -> what was proved of it in this repository."""
        ...

    def record(self, repository_id: str, proved: Iterable[ProvedWal]) -> None:
        """Remember objects just proved intact (idempotent)."""
        ...

    def forget(self, repository_id: str, names: Iterable[str]) -> None:
        """Drop what was proved of objects no longer listed (expired, or deleted)."""
        ...


class NoLedger:
    """Remembers nothing: every measurement reads its whole chain."""

    def proved(self, repository_id: str) -> Mapping[str, ProvedWal]:
        return {}

    def record(self, repository_id: str, proved: Iterable[ProvedWal]) -> None:
        return None

    def forget(self, repository_id: str, names: Iterable[str]) -> None:
        return None


@dataclass
class Measurement:
    points: list[RecoveryPoint]
    read: int = 0  # segments read whole this time
    damaged: dict[str, str] = field(default_factory=dict)  # object name -> why
    reproved: int = 0  # of ``read``, segments proved before and read again (their proof aged)
    unproved: list[str] = field(default_factory=list)  # proved before, damaged now: withdrawn


def measure_recovery(
    repo: Repository,
    backups: list[PhysicalBackup],
    ledger: WalLedger,
    system_ids: Iterable[int] | None = None,
    *,
    reprove_before: datetime | None = None,
) -> Measurement:
    """The recovery point of each cluster with base backups (or of ``system_ids``).

    ``reprove_before``: a proof made before this instant is not trusted; the segment is
    read again (a proof without a date, too). ``datetime.max`` (UTC): read every one.
    """
    wanted = sorted(set(system_ids) if system_ids is not None else set())
    wanted = wanted or sorted({b.info.system_identifier for b in backups})
    known = dict(ledger.proved(repo.config.id))
    result = Measurement([])
    for sysid in wanted:
        mine = [b for b in backups if b.info.system_identifier == sysid]
        size = mine[0].info.wal_segment_size if mine else 16 << 20
        trusted = _trusted(known, reprove_before)
        point, proved, listed = _measure_cluster(repo, sysid, size, mine, trusted, result)
        prefix = f"{sysid}-"
        gone = [n for n in known if n.startswith(prefix) and n not in listed]
        withdrawn = [n for n in result.damaged if n in known and n.startswith(prefix)]
        result.unproved += withdrawn
        result.reproved += sum(1 for p in proved if p.name in known)
        ledger.forget(repo.config.id, [*gone, *withdrawn])  # listed/intact again: proved again
        ledger.record(repo.config.id, proved)
        result.points.append(point)
    return result


def _trusted(known: dict[str, ProvedWal], before: datetime | None) -> dict[str, ProvedWal]:
    """The proofs young enough to be trusted without reading the object again."""
    if before is None:
        return dict(known)
    return {n: p for n, p in known.items() if p.proved_at is not None and p.proved_at >= before}


def _measure_cluster(
    repo: Repository,
    sysid: int,
    size: int,
    backups: list[PhysicalBackup],
    known: dict[str, ProvedWal],
    result: Measurement,
) -> tuple[RecoveryPoint, list[ProvedWal], set[str]]:
    archive = WalArchive(repo)
    state = archive_state(repo, sysid, size, headers=False)
    listed = archive.list(sysid)
    files = {
        (f.parsed.timeline, f.parsed.segment_number(size)): f
        for f in listed
        if f.parsed.kind is WalFileKind.SEGMENT
    }
    for key in set(state.segments) - set(files):  # gone between the two listings
        del state.segments[key]
    points = [b.info.point(b.snapshot.id) for b in backups]
    stops = {b.snapshot.id: b.info.stop_time for b in backups}
    proved: list[ProvedWal] = []
    while True:
        todo = [
            files[k] for k in segments_to_read(points, state) if not _known(files[k], known, state)
        ]
        if not todo:
            return recovery_point(points, state, stops), proved, {f.object_name for f in listed}
        with ThreadPoolExecutor(READERS) as pool:
            for file, outcome in zip(
                todo, pool.map(lambda f: _prove(archive, f), todo), strict=True
            ):
                result.read += 1
                key = (file.parsed.timeline, file.parsed.segment_number(size))
                if isinstance(outcome, str):
                    result.damaged[file.object_name] = outcome
                    state.segments.pop(key, None)  # a segment recovery cannot replay is a gap
                    continue
                known[file.object_name] = outcome
                proved.append(outcome)
                _note_commit(state, key, outcome)


def _known(file: ArchivedFile, known: Mapping[str, ProvedWal], state: ArchiveState) -> bool:
    """A segment proved before, with the size it still has: its commit time goes in ``state``."""
    proof = known.get(file.object_name)
    if proof is None or proof.size != file.stored_size:
        return False
    _note_commit(
        state, (file.parsed.timeline, file.parsed.segment_number(state.segment_size)), proof
    )
    return True


def _note_commit(state: ArchiveState, key: tuple[int, int], proof: ProvedWal) -> None:
    if proof.last_xact_ns < 0:
        state.no_commit_info.add(key)
    elif (commit := unix_ns_time(proof.last_xact_ns)) is not None:
        state.commits[key] = commit


def _prove(archive: WalArchive, file: ArchivedFile) -> ProvedWal | str:
    """Read ``file`` whole and authenticate it: its proof, or why it is damaged."""
    repo = archive.repo
    try:
        raw = archive.backend.load(FileKind.WAL, file.object_name)
        header = WalHeader.decode(raw)
        open_wal(file.object_name, raw, sealer=repo.sealer, hash_id=repo.hash_id)
    except ObjectNotFound:
        return "deleted while it was read"
    except WalFormatError as exc:
        return f"the archived WAL file {file.name} is damaged: {exc}"
    xact = header.last_xact_ns if header.version >= 2 else -1
    return ProvedWal(file.object_name, file.stored_size, xact)
