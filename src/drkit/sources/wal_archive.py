"""The WAL archive inside a repository: push, fetch and list archived WAL files.

Each WAL file is one object ``wal/<system id>-<file name>`` (format in
:mod:`drkit.sources.wal_format`), so PostgreSQL's archiver costs one small
write per 16 MiB segment: no index is loaded and no lock is taken. That is
safe because WAL objects are only ever added: nothing in prune or forget
touches them, and a stored WAL object is never replaced by other content.

The system identifier in the name keeps clusters apart: two clusters (or a
cluster re-created by initdb) both have a segment ``000000010000000000000001``,
while a cluster restored by PITR keeps its identifier and continues on a new
timeline, as PostgreSQL intends.

A second push of the same name compares content ids from the 54-byte header:
identical content is a no-op (the archiver retries after a crash), other
content is refused (:class:`WalConflict`) and the stored object kept. The
check and the write are two steps; two servers racing to push the same name
in the same instant could both pass the check (the Backend interface has no
create-if-absent yet); drkit then keeps one of the two whole files.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from drkit.errors import ObjectNotFound
from drkit.sources.wal_errors import WalConflict, WalDamaged, WalNameInvalid, WalNotArchived
from drkit.sources.wal_format import (
    HEADER_SIZE,
    WalFormatError,
    WalHeader,
    open_wal,
    seal_wal,
)
from drkit.sources.wal_names import WalFileKind, WalFileName, parse_wal_name
from drkit.sources.wal_records import last_xact_unix_ns
from drkit.storage.base import FileKind

if TYPE_CHECKING:
    from drkit.repository.repo import Repository

log = logging.getLogger("drkit.wal")

HEADER_READERS = 8  # parallel header reads when listing (round trips on remote storage)


class PushOutcome(StrEnum):
    STORED = "stored"
    ALREADY_ARCHIVED = "already-archived"  # same name, same content: nothing to do
    REPLACED_DAMAGED = "replaced-damaged"  # the stored object was unreadable


@dataclass(frozen=True)
class ArchivedFile:
    """One WAL object as listed: which cluster, which file, its size in the repository."""

    system_id: int
    name: str
    parsed: WalFileName
    stored_size: int

    @property
    def object_name(self) -> str:
        return object_name(self.system_id, self.name)


def object_name(system_id: int, wal_name: str) -> str:
    return f"{system_id}-{wal_name}"


def split_object_name(name: str) -> tuple[int, WalFileName] | None:
    """``(system id, parsed WAL name)`` of an object name; None for anything else."""
    sysid, sep, wal_name = name.partition("-")
    parsed = parse_wal_name(wal_name) if sep and sysid.isdigit() else None
    return (int(sysid), parsed) if parsed is not None else None


def _last_xact_ns(wal_name: str, data: bytes) -> int:
    """The segment's latest commit/abort time (ns since the epoch); 0 for none/other files."""
    parsed = parse_wal_name(wal_name)
    if parsed is None or parsed.kind is not WalFileKind.SEGMENT:
        return 0
    try:
        return last_xact_unix_ns(data)
    except (struct.error, IndexError, OverflowError, ValueError) as exc:
        log.warning("cannot read the commit times of %s: %s", wal_name, exc)
        return 0


def validate_name(wal_name: str) -> WalFileName:
    parsed = parse_wal_name(wal_name)
    if parsed is None:
        raise WalNameInvalid(f"{wal_name!r} is not a WAL file name")
    return parsed


class WalArchive:
    """The ``wal/`` objects of one opened repository (its index need not be loaded)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.backend = repo.backend

    # -- push ------------------------------------------------------------------
    def push(self, system_id: int, wal_name: str, data: bytes) -> PushOutcome:
        """Store ``data`` as WAL file ``wal_name`` of cluster ``system_id``, exactly once."""
        validate_name(wal_name)
        name = object_name(system_id, wal_name)
        outcome = self._compare_with_stored(name, wal_name, data)
        if outcome is PushOutcome.ALREADY_ARCHIVED:
            return outcome
        _, parts = seal_wal(
            name,
            data,
            sealer=self.repo.sealer,
            hash_id=self.repo.hash_id,
            pushed_ns=time.time_ns(),
            last_xact_ns=_last_xact_ns(wal_name, data),
        )
        self.backend.save(FileKind.WAL, name, parts)
        return outcome

    def _compare_with_stored(self, name: str, wal_name: str, data: bytes) -> PushOutcome:
        try:
            stored = WalHeader.decode(self.backend.load(FileKind.WAL, name, 0, HEADER_SIZE))
        except ObjectNotFound:
            return PushOutcome.STORED
        except WalFormatError as exc:
            log.warning("replacing the damaged archived WAL file %s (%s)", wal_name, exc)
            return PushOutcome.REPLACED_DAMAGED
        new_id = self.repo.hash_id(data)
        if stored.content_id == new_id and stored.raw_length == len(data):
            return PushOutcome.ALREADY_ARCHIVED
        log.error(
            "WAL conflict: %s is already archived with other content (stored %d bytes, id %s; "
            "pushed %d bytes, id %s); the stored file is kept",
            wal_name,
            stored.raw_length,
            stored.content_id.hex()[:16],
            len(data),
            new_id.hex()[:16],
        )
        raise WalConflict(
            f"WAL file {wal_name} is already archived with different content; refused"
        )

    # -- fetch -----------------------------------------------------------------
    def fetch(self, system_id: int, wal_name: str) -> bytes:
        """The archived content of ``wal_name``, authenticated and verified."""
        validate_name(wal_name)
        name = object_name(system_id, wal_name)
        try:
            raw = self.backend.load(FileKind.WAL, name)
        except ObjectNotFound:
            raise WalNotArchived(f"{wal_name} is not in the WAL archive") from None
        try:
            return open_wal(name, raw, sealer=self.repo.sealer, hash_id=self.repo.hash_id)
        except WalFormatError as exc:
            raise WalDamaged(f"the archived WAL file {wal_name} is damaged: {exc}") from None

    # -- listing -----------------------------------------------------------------
    def list(self, system_id: int | None = None) -> list[ArchivedFile]:
        """Every archived WAL file (of one cluster, if given), sorted by cluster and name."""
        found = []
        for info in self.backend.list(FileKind.WAL):
            split = split_object_name(info.name)
            if split is None or (system_id is not None and split[0] != system_id):
                continue
            wal_name = info.name.partition("-")[2]
            found.append(ArchivedFile(split[0], wal_name, split[1], info.size))
        return sorted(found, key=lambda f: (f.system_id, f.name))

    def headers(self, files: Iterable[ArchivedFile]) -> dict[str, WalHeader | str]:
        """Object name -> its header, or why it could not be read (several reads at once)."""
        todo = list(files)
        with ThreadPoolExecutor(HEADER_READERS) as pool:
            results = pool.map(self._header_or_reason, todo)
            return {f.object_name: r for f, r in zip(todo, results, strict=True)}

    def _header_or_reason(self, file: ArchivedFile) -> WalHeader | str:
        try:
            raw = self.backend.load(FileKind.WAL, file.object_name, 0, HEADER_SIZE)
            return WalHeader.decode(raw)
        except (WalFormatError, ObjectNotFound) as exc:
            return str(exc)

    def verify(self, file: ArchivedFile) -> str | None:
        """Read and authenticate one object whole: None if intact, else what is wrong."""
        try:
            self.fetch(file.system_id, file.name)
        except (WalDamaged, WalNotArchived) as exc:
            return exc.message
        return None

    def read_text(self, file: ArchivedFile) -> str:
        """A small text file of the archive (history, backup history), decoded."""
        return self.fetch(file.system_id, file.name).decode("utf-8", errors="replace")
