"""Gathering what the chain check needs from a repository, then running it.

Lists the ``wal/`` objects, reads each segment's 54-byte header (for its
push time) and each timeline history file, finds the base backups among
the snapshots, and hands all of it to the pure :func:`check_chains`. With
``read_data`` every WAL object is also read whole and authenticated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from drkit.repository.repo import Repository
from drkit.sources.postgres_physical_meta import physical_backups
from drkit.sources.wal_archive import ArchivedFile, WalArchive
from drkit.sources.wal_chain import ArchiveState, ChainReport, check_chains
from drkit.sources.wal_errors import WalDamaged, WalNotArchived
from drkit.sources.wal_format import WalHeader
from drkit.sources.wal_names import DEFAULT_SEGMENT_SIZE, WalFileKind, parse_history
from drkit.sources.wal_records import unix_ns_time


@dataclass
class ChainCounts:
    backups: int = 0
    wal_files: int = 0
    segments: int = 0
    histories: int = 0
    wal_files_read: int = 0


@dataclass
class ChainCheckResult:
    """The chain report plus what could not be read on the way."""

    report: ChainReport
    counts: ChainCounts
    damaged_wal: dict[str, str] = field(default_factory=dict)  # WAL object -> why
    # (damaged segments count as missing: the chain breaks at them)
    bad_backups: dict[str, str] = field(default_factory=dict)  # snapshot id -> why

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.damaged_wal and not self.bad_backups


def run_chain_check(repo: Repository, *, read_data: bool = False) -> ChainCheckResult:
    """Check every base backup's WAL chain in ``repo`` (index not needed)."""
    backups, bad = physical_backups(repo.snapshots(on_damaged=lambda *_: None))
    sizes = {b.info.system_identifier: b.info.wal_segment_size for b in backups}
    archive = WalArchive(repo)
    files = archive.list()
    counts = ChainCounts(backups=len(backups), wal_files=len(files))
    damaged: dict[str, str] = {}
    states = _archive_states(archive, files, sizes, damaged, counts)
    if read_data:
        for f in files:
            reason = archive.verify(f)
            counts.wal_files_read += 1
            if reason is not None:
                damaged.setdefault(f.object_name, reason)
                _drop(states, f)  # a segment recovery cannot restore is a gap in the chain
    report = check_chains([b.info.point(b.snapshot.id) for b in backups], states)
    return ChainCheckResult(report, counts, damaged, bad)


def _drop(states: dict[int, ArchiveState], f: ArchivedFile) -> None:
    state = states.get(f.system_id)
    if state is None or f.parsed.kind is not WalFileKind.SEGMENT:
        return
    key = (f.parsed.timeline, f.parsed.segment_number(state.segment_size))
    state.segments.pop(key, None)
    state.commits.pop(key, None)


def archive_state(
    repo: Repository, system_id: int, segment_size: int, *, headers: bool = True
) -> ArchiveState:
    """One cluster's archive: its segments (with push times) and timeline histories.

    ``headers=False`` lists segments by name only (no push or commit times, no
    object read but the history files): what a caller that proves segments itself needs.
    """
    archive = WalArchive(repo)
    files = archive.list(system_id)
    sizes = {system_id: segment_size}
    states = _archive_states(archive, files, sizes, {}, ChainCounts(), headers=headers)
    return states.get(system_id) or ArchiveState(system_id, segment_size)


def _archive_states(
    archive: WalArchive,
    files: list[ArchivedFile],
    sizes: dict[int, int],
    damaged: dict[str, str],
    counts: ChainCounts,
    *,
    headers: bool = True,
) -> dict[int, ArchiveState]:
    states: dict[int, ArchiveState] = {}
    segments = [f for f in files if f.parsed.kind is WalFileKind.SEGMENT]
    read = archive.headers(segments) if headers else {}
    for f in files:
        state = states.get(f.system_id)
        if state is None:
            size = sizes.get(f.system_id, DEFAULT_SEGMENT_SIZE)
            state = states[f.system_id] = ArchiveState(f.system_id, size)
        if f.parsed.kind is WalFileKind.SEGMENT:
            counts.segments += 1
            key = (f.parsed.timeline, f.parsed.segment_number(state.segment_size))
            if not headers:
                state.segments[key] = None
                continue
            header = read[f.object_name]
            if isinstance(header, str):
                damaged[f.object_name] = header
                continue  # an unreadable segment counts as missing
            state.segments[key] = _pushed(header)
            if header.version < 2:
                state.no_commit_info.add(key)
            elif (commit := unix_ns_time(header.last_xact_ns)) is not None:
                state.commits[key] = commit
        elif f.parsed.kind is WalFileKind.HISTORY:
            counts.histories += 1
            _read_history(archive, f, state)
    return states


def _pushed(header: WalHeader) -> datetime | None:
    return datetime.fromtimestamp(header.pushed_ns / 1e9, UTC) if header.pushed_ns else None


def _read_history(archive: WalArchive, f: ArchivedFile, state: ArchiveState) -> None:
    try:
        state.histories[f.parsed.timeline] = parse_history(archive.read_text(f))
    except (WalDamaged, WalNotArchived, ValueError) as exc:
        state.unreadable_histories[f.parsed.timeline] = str(exc)
