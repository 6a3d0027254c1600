"""Checking a repository: is everything a snapshot needs present and intact?

This module owns the logic of ``drkit check``; the CLI only renders the
:class:`CheckReport` it returns.

The structure check (always done) reads every snapshot, every index file and
every tree, and lists the packs: it finds damaged snapshot and index files,
packs the index names that are missing or have the wrong size, trees that do
not load, and data blobs a tree needs that no index names. Each distinct
tree is read once, however many snapshots share it.

With ``read_data`` every selected pack is read whole: its BLAKE3 must equal
its name, its header must decode and agree with the index, and every blob in
it must decrypt, decompress and match its id. Blobs are checked at the
index's offsets, so a pack whose header is damaged still has its blobs
checked.

Finally the damaged and missing blobs are traced to the snapshots and paths
that need them. A damaged tree hides everything below it, which the report
says rather than guessing.

The steps run in the order snapshots, index, packs. Writers store packs,
then the index naming them, then the snapshot (see writer.py), so under a
shared lock a backup running at the same time can only add packs not yet
indexed (a warning), never a snapshot whose blobs this check cannot see.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import blake3

from drkit.errors import IntegrityError, StorageError
from drkit.repository.blob import BlobLocation, BlobType, PackedBlob
from drkit.repository.check_report import (
    AffectedPath,
    AffectedSnapshot,
    CheckCounts,
    CheckReport,
    Problem,
)
from drkit.repository.check_subset import PackSubset
from drkit.repository.damage import DamageMapper
from drkit.repository.keys import damaged_key_slots
from drkit.repository.pack import PackFormatError, expected_size, read_header
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node
from drkit.storage.base import FileKind

READ_PIECE = 2 * 1024 * 1024  # packs are read and hashed in pieces of this size


class Checker:
    """Checks one repository, opened without its index loaded (the checker loads it)."""

    def __init__(
        self,
        repo: Repository,
        *,
        read_data: PackSubset | None = None,
        progress: Progress | None = None,
        workers: int = 2,
    ) -> None:
        self.repo = repo
        self.subset = read_data
        self.progress = progress or Progress()
        self.workers = workers
        self.counts = CheckCounts()
        self._errors: list[Problem] = []
        self._warnings: list[Problem] = []
        self._damaged: dict[bytes, str] = {}  # blob id -> first reason found
        self._snapshots: list[Snapshot] = []
        self._stored: dict[str, int] = {}  # pack in storage -> size
        self._indexed: dict[str, list[PackedBlob]] = {}
        self._index_damaged = False
        self._missing_from_index = False
        self._lock = threading.Lock()

    def run(self) -> CheckReport:
        self._check_keys()
        self._check_snapshots()
        self._check_index()
        self._check_packs()
        self._check_trees()
        if self.subset is not None:
            self._read_packs(self.subset.select(self._stored))
        affected = DamageMapper(self.repo, set(self._damaged)).map(self._snapshots)
        return CheckReport(
            read_data=self.subset.describe() if self.subset is not None else None,
            errors=self._errors,
            warnings=self._warnings,
            damaged_blobs=sorted(self._damaged),
            affected=affected,
            counts=self.counts,
            hints=self._hints(affected),
        )

    # -- recording ---------------------------------------------------------------
    def _error(self, kind: str, name: str, message: str) -> None:
        with self._lock:
            self._errors.append(Problem(kind, name, message))

    def _warn(self, kind: str, name: str, message: str) -> None:
        with self._lock:
            self._warnings.append(Problem(kind, name, message))

    def _blob_damaged(self, blob_id: bytes, message: str) -> None:
        """Record a damaged or missing blob once, however many ways it was found."""
        with self._lock:
            if blob_id in self._damaged:
                return
            self._damaged[blob_id] = message
            self._errors.append(Problem("blob", blob_id.hex(), message))

    # -- structure ---------------------------------------------------------------
    def _check_keys(self) -> None:
        for slot, why in sorted(damaged_key_slots(self.repo.backend).items()):
            self._error(
                "key",
                slot,
                f"key slot {slot} is damaged ({why}); its passphrase no longer opens the "
                f"repository: `drkit key remove {slot[:12]}` removes it",
            )

    def _check_snapshots(self) -> None:
        damaged: list[str] = []

        def on_damaged(name: str, exc: Exception) -> None:
            damaged.append(name)
            why = "" if isinstance(exc, IntegrityError) else f": {exc}"
            self._error("snapshot", name, f"snapshot file {name} is damaged{why}")

        self._snapshots = self.repo.snapshots(on_damaged=on_damaged)
        self.counts.snapshots = len(self._snapshots) + len(damaged)

    def _check_index(self) -> None:
        loaded = self.repo.load_index(strict=False)
        for name, why in sorted(loaded.damaged.items()):
            self._error("index", name, f"index file {name} is damaged: {why}")
        self._index_damaged = bool(loaded.damaged)
        self._indexed = self.repo.index.packs()
        self.counts.index_files = len(self.repo.index_files) + len(loaded.damaged)
        self.counts.blobs = len(self.repo.index)

    def _check_packs(self) -> None:
        self._stored = {info.name: info.size for info in self.repo.backend.list(FileKind.PACK)}
        self.counts.packs = len(self._stored)
        for name, blobs in sorted(self._indexed.items()):
            size = self._stored.get(name)
            if size is None:
                self._error("pack", name, f"pack {name} is named by the index but missing")
                self._pack_lost(name, blobs, "missing")
                continue
            expected = expected_size(blobs)
            if size != expected:
                self._error(
                    "pack", name, f"pack {name} is {size} bytes; the index implies {expected}"
                )
                self._pack_lost(name, blobs, "truncated", readable=size)
        for name in sorted(set(self._stored) - set(self._indexed)):
            self._warn("pack", name, self._unreferenced_message(name))
        self._check_staged()

    def _check_staged(self) -> None:
        """Staged pack files (``.tmp-pack-*``): an interrupted backup's, or a running one's."""
        staging = self.repo.backend.staging_dir()
        if staging is None:
            return
        staged = list(staging.glob(".tmp-pack-*"))
        if staged:
            size = sum(p.stat().st_size for p in staged if p.exists())
            self._warn(
                "pack",
                "staging",
                f"{len(staged)} staged pack file(s) ({size} bytes) in data/, left by "
                "interrupted backups or being written by a running one; `drkit prune` "
                "removes them",
            )

    def _unreferenced_message(self, name: str) -> str:
        if self._index_damaged:
            return (
                f"pack {name} is not in the index, maybe because an index file is damaged; "
                "`drkit repair index` indexes it again"
            )
        return (
            f"pack {name} is not referenced by the index (left by an interrupted backup, "
            "or being written by a running one); `drkit prune` removes such packs"
        )

    def _pack_lost(self, pack: str, blobs: list[PackedBlob], why: str, readable: int = 0) -> None:
        """Record the blobs of a bad pack that lie beyond its first ``readable`` bytes."""
        for b in blobs:
            if b.offset + b.length > readable and self._is_used_copy(pack, b.id):
                self._blob_damaged(
                    b.id, f"{_kind(b.type)} blob {b.id.hex()} is in pack {pack}, which is {why}"
                )

    def _is_used_copy(self, pack: str, blob_id: bytes) -> bool:
        """Whether ``pack`` holds the copy of the blob that readers use.

        A blob stored twice (two backups racing) has one copy in the index;
        damage to the other copy loses nothing, though its pack is reported.
        """
        loc = self.repo.index.get(blob_id)
        return loc is None or loc.pack == pack

    def _check_trees(self) -> None:
        todo = [snap.tree for snap in self._snapshots]
        seen: set[bytes] = set()
        while todo:
            tree_id = todo.pop()
            if tree_id in seen:
                continue
            seen.add(tree_id)
            nodes = self._load_tree(tree_id)
            for node in nodes or []:
                self._check_content(node, tree_id)
                if node.subtree is not None and node.subtree not in seen:
                    todo.append(node.subtree)
        self.counts.trees = len(seen)

    def _load_tree(self, tree_id: bytes) -> list[Node] | None:
        if tree_id in self._damaged:
            return None
        if tree_id not in self.repo.index:
            self._missing_from_index = True
            self._blob_damaged(tree_id, f"tree blob {tree_id.hex()} is not in the index")
            return None
        try:
            return self.repo.load_tree(tree_id)
        except (IntegrityError, StorageError) as exc:
            self._blob_damaged(tree_id, f"tree blob {tree_id.hex()} cannot be read: {exc}")
        except (ValueError, KeyError, TypeError) as exc:
            self._blob_damaged(tree_id, f"tree blob {tree_id.hex()} does not decode: {exc!r}")
        return None

    def _check_content(self, node: Node, tree_id: bytes) -> None:
        for blob_id in node.content:
            if blob_id not in self.repo.index:
                self._missing_from_index = True
                self._blob_damaged(
                    blob_id,
                    f"data blob {blob_id.hex()} of {node.name!r} (in tree "
                    f"{tree_id.hex()[:12]}) is not in the index",
                )

    # -- reading data ------------------------------------------------------------
    def _read_packs(self, names: list[str]) -> None:
        self.progress.start("check: reading packs")
        self.progress.set_total(len(names), sum(self._stored[n] for n in names))
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="drkit-check") as pool:
                for _ in pool.map(self._read_pack, names):
                    pass
        finally:
            self.progress.finish()

    def _read_pack(self, name: str) -> None:
        """Hash and verify one pack, streaming it in pieces (memory: a few MiB per worker)."""
        indexed = self._indexed.get(name)
        size = self._stored[name]
        blobs = sorted(indexed or [], key=lambda b: b.offset)
        try:
            digest = self._stream_blobs(name, size, blobs)
        except StorageError as exc:
            self._error("pack", name, f"pack {name} cannot be read: {exc}")
            self._pack_lost(name, indexed or [], "unreadable")
            return
        if digest != name:
            self._error("pack", name, f"pack {name} does not match its name: its content changed")
        header = self._decode_header(name, size)
        if indexed is not None and header is not None:
            self._compare_header(name, header, indexed)
        with self._lock:
            self.counts.packs_read += 1
            self.counts.blobs_read += len(blobs)
            self.counts.bytes_read += size

    def _stream_blobs(self, name: str, size: int, blobs: list[PackedBlob]) -> str:
        """Read the pack front to back; open each blob once its bytes are in; return the hash."""
        hasher = blake3.blake3()
        buffer, buffer_start, next_blob = bytearray(), 0, 0
        for start in range(0, max(size, 1), READ_PIECE):
            piece = self.repo.backend.load(FileKind.PACK, name, start, READ_PIECE)
            hasher.update(piece)
            self.progress.advance(nbytes=len(piece))
            buffer += piece
            end = start + len(piece)
            while next_blob < len(blobs) and _end(blobs[next_blob]) <= end:
                b = blobs[next_blob]
                self._verify_blob(
                    name, b, memoryview(buffer)[b.offset - buffer_start :][: b.length]
                )
                next_blob += 1
            keep_from = blobs[next_blob].offset if next_blob < len(blobs) else end
            del buffer[: max(0, keep_from - buffer_start)]
            buffer_start = max(buffer_start, keep_from)
            if len(piece) < READ_PIECE:
                break
        for b in blobs[next_blob:]:
            self._copy_damaged(name, b, "lies past the end of the pack")
        self.progress.advance(files=1)
        return hasher.hexdigest()

    def _verify_blob(self, name: str, b: PackedBlob, sealed: memoryview) -> None:
        loc = BlobLocation(name, b.type, b.offset, b.length, b.raw_length)
        try:
            self.repo.open_blob(b.id, loc, sealed)
        except IntegrityError:
            self._copy_damaged(name, b, "is damaged")
        finally:
            sealed.release()

    def _decode_header(self, name: str, size: int) -> list[PackedBlob] | None:
        try:
            return read_header(self.repo.backend, name, size, self.repo.sealer)
        except PackFormatError as exc:
            self._error("pack", name, f"pack {name} has a damaged header: {exc}")
            return None

    def _compare_header(
        self, name: str, header: list[PackedBlob], indexed: list[PackedBlob]
    ) -> None:
        differ = set(header) ^ set(indexed)
        if differ:
            self._error(
                "pack",
                name,
                f"pack {name}: its header and the index disagree about {len(differ)} entries",
            )

    def _copy_damaged(self, pack: str, b: PackedBlob, what: str) -> None:
        message = f"{_kind(b.type)} blob {b.id.hex()} in pack {pack} {what}"
        if self._is_used_copy(pack, b.id):
            self._blob_damaged(b.id, message)
        else:
            self._error("pack", pack, f"{message} (a spare copy: readers use another)")

    # -- advice ------------------------------------------------------------------
    def _hints(self, affected: list[AffectedSnapshot]) -> list[str]:
        hints = []
        snapshot_damaged = any(p.kind == "snapshot" for p in self._errors)
        unindexed_packs = bool(set(self._stored) - set(self._indexed))
        if self._index_damaged or (self._missing_from_index and unindexed_packs):
            hints.append(
                "`drkit repair index` rebuilds the index from the pack headers; "
                "run it, then check again"
            )
        elif self._missing_from_index:
            hints.append(
                "the blobs missing from the index are in no pack of the repository either: "
                "their data is lost, and `drkit repair index` cannot bring it back; the "
                "affected files listed above cannot be restored from this repository (take "
                "them from another copy, and back them up again)"
            )
        if snapshot_damaged:
            hints.append(
                "a damaged snapshot file cannot be rebuilt: copy it from another copy "
                "of the repository, or remove it"
            )
        if affected:
            hints.append(
                "`drkit restore` still restores every file not listed as affected; "
                "take the affected ones from another copy of the repository"
            )
        elif self._errors and self.subset is not None and not (self._damaged or snapshot_damaged):
            scope = "" if self.subset.reads_all else " in the packs read"
            hints.append(f"no file is affected: every blob{scope} was verified intact")
        if self.subset is None and not self._errors:
            hints.append("only the structure was checked; `--read-data` also reads every pack")
        return hints


def _end(blob: PackedBlob) -> int:
    return blob.offset + blob.length


def _kind(btype: BlobType) -> str:
    return "tree" if btype is BlobType.TREE else "data"


__all__ = [
    "AffectedPath",
    "AffectedSnapshot",
    "CheckCounts",
    "CheckReport",
    "Checker",
    "DamageMapper",
    "PackSubset",
    "Problem",
]
