"""Repairing a repository: rebuilding the index from the packs.

This module owns ``drkit repair index``. Every pack ends with a sealed
header listing its blobs, so the index can be rebuilt from the packs alone:
only each pack's trailer and header are read (two ranged reads), never its
data.

A pack whose header cannot be read keeps the entries an old, readable index
file had for it, so a damaged header loses nothing the old index knew.

Crash safety: the new index file is written (atomically) before any old one
is removed. A crash in between leaves both, which only duplicates entries.
The caller holds an exclusive lock, so no backup adds packs or index files
meanwhile.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from drkit.errors import StorageError
from drkit.repository.blob import PackedBlob
from drkit.repository.crypto import content_hash
from drkit.repository.index import encode_index
from drkit.repository.pack import PackFormatError, read_header
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind


@dataclass
class RepairReport:
    """What ``repair index`` did."""

    new_index: str | None = None  # None: no readable pack, nothing written
    packs: int = 0  # packs in the new index
    blobs: int = 0
    removed_index: list[str] = field(default_factory=list)
    from_old_index: list[str] = field(default_factory=list)  # header unreadable, entries kept
    unindexed: dict[str, str] = field(default_factory=dict)  # pack -> why it could not be indexed


class IndexRebuilder:
    """Rebuilds the index of a repository opened without its index loaded."""

    def __init__(
        self, repo: Repository, progress: Progress | None = None, workers: int = 4
    ) -> None:
        self.repo = repo
        self.progress = progress or Progress()
        self.workers = workers

    def run(self) -> RepairReport:
        old_damaged = self.repo.load_index(strict=False).damaged
        old_files = sorted([*self.repo.index_files, *old_damaged])
        old_packs = self.repo.index.packs()
        stored = {info.name: info.size for info in self.repo.backend.list(FileKind.PACK)}
        headers = self._read_headers(stored)
        report = RepairReport()
        entries: list[tuple[str, list[PackedBlob]]] = []
        for name in sorted(stored):
            found = headers[name]
            if isinstance(found, list):
                entries.append((name, found))
            elif name in old_packs:
                entries.append((name, old_packs[name]))
                report.from_old_index.append(name)
            else:
                report.unindexed[name] = found
        if not entries:
            return report  # nothing to index: leave the old files as they are
        report.new_index = self._write(entries)
        report.packs, report.blobs = len(entries), sum(len(b) for _, b in entries)
        report.removed_index = self._remove(old_files, keep=report.new_index)
        return report

    def _read_headers(self, stored: dict[str, int]) -> dict[str, list[PackedBlob] | str]:
        names = sorted(stored)
        self.progress.start("repair: reading pack headers")
        self.progress.set_total(len(names), None)
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="drkit-repair") as pool:
                found = pool.map(lambda n: self._read_one(n, stored[n]), names)
                return dict(zip(names, found, strict=True))
        finally:
            self.progress.finish()

    def _read_one(self, name: str, size: int) -> list[PackedBlob] | str:
        try:
            return read_header(self.repo.backend, name, size, self.repo.sealer)
        except (PackFormatError, StorageError) as exc:
            return str(exc)
        finally:
            self.progress.advance(files=1)

    def _write(self, entries: list[tuple[str, list[PackedBlob]]]) -> str:
        sealed = encode_index(entries, self.repo.sealer)
        name = content_hash(sealed)
        self.repo.backend.save(FileKind.INDEX, name, [sealed])
        return name

    def _remove(self, old_files: list[str], keep: str) -> list[str]:
        removed = [name for name in old_files if name != keep]
        for name in removed:
            self.repo.backend.remove(FileKind.INDEX, name)
        return removed


__all__ = ["IndexRebuilder", "RepairReport"]
