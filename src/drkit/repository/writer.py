"""Writing new blobs: dedup, compress, seal, pack, and index them.

One BlobWriter per operation (backup, prune, copy). ``save`` may be called
from many threads; a blob is stored at most once per writer even when two
threads meet the same content at the same moment. ``flush`` writes what is
still open, then the index file(s) naming the new packs: only after that may
a snapshot refer to the blobs (packs -> index -> snapshot).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from drkit.repository.blob import BlobType, PackedBlob
from drkit.repository.compression import Compression, Compressor
from drkit.repository.crypto import content_hash
from drkit.repository.faults import crash_point
from drkit.repository.index import encode_index
from drkit.repository.pack import FinishedPack, Packer
from drkit.repository.pack_size import DEFAULT_PACK_SIZE as DEFAULT_PACK_SIZE
from drkit.repository.repo import Repository
from drkit.repository.uploads import Uploads
from drkit.storage.base import FileKind

INDEX_EVERY_PACKS = 64  # a crash loses at most this many packs' worth of upload
UPLOADERS = 2  # packs uploaded at once per repository (remote backends)


@dataclass
class WriteStats:
    data_blobs: int = 0
    tree_blobs: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    packs: int = 0


class BlobWriter:
    """Adds blobs to a repository."""

    def __init__(
        self,
        repo: Repository,
        compression: Compression | None = None,
        pack_size: int = DEFAULT_PACK_SIZE,
    ) -> None:
        self.repo = repo
        self.compressor = Compressor(compression or Compression.parse("auto"))
        self.stats = WriteStats()
        self._claimed: set[bytes] = set()
        # blobs found already in the index: the snapshot names them, so before it
        # is saved they are confirmed still there (Repository.confirm_indexed)
        self.reused: set[bytes] = set()
        self._claim_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._unindexed: list[FinishedPack] = []
        self.written_index_files: list[str] = []
        staging = repo.backend.staging_dir()
        tree_size = max(pack_size // 4, 1 << 20)
        self._packers = {
            BlobType.DATA: Packer(repo.sealer, pack_size, staging, self._store_pack),
            BlobType.TREE: Packer(repo.sealer, tree_size, staging, self._store_pack),
        }
        # A backend that stages locally stores a pack with a rename: do it inline.
        # Remote backends upload in the background, so readers keep compressing.
        self._uploads = Uploads(UPLOADERS) if staging is None else None

    def claim(self, blob_id: bytes) -> bool:
        """True if the caller should store this blob (nobody has it or is storing it)."""
        if blob_id in self.repo.index:
            self.reused.add(blob_id)
            return False
        with self._claim_lock:
            if blob_id in self._claimed:
                return False
            self._claimed.add(blob_id)
            return True

    def save(self, btype: BlobType, data: bytes | memoryview) -> tuple[bytes, bool]:
        """Store ``data`` unless already present; return (id, whether it was added)."""
        blob_id = self.repo.hash_id(data)
        if not self.claim(blob_id):
            return blob_id, False
        self.store_claimed(btype, blob_id, data)
        return blob_id, True

    def store_claimed(self, btype: BlobType, blob_id: bytes, data: bytes | memoryview) -> None:
        stored, raw_length = self.compressor.compress(data)
        sealed = self.repo.sealer.seal(stored, blob_id)
        self.add_sealed(btype, blob_id, sealed, raw_length, len(data))

    def add_sealed(
        self, btype: BlobType, blob_id: bytes, sealed: bytes, raw_length: int, plain_length: int
    ) -> None:
        """Add an already sealed blob (prune and copy reuse ciphertext as it is)."""
        with self._claim_lock:
            if btype is BlobType.DATA:
                self.stats.data_blobs += 1
            else:
                self.stats.tree_blobs += 1
            self.stats.raw_bytes += plain_length
            self.stats.stored_bytes += len(sealed)
        self._packers[btype].add(blob_id, btype, sealed, raw_length)

    def flush(self) -> None:
        """Write open packs, wait for every upload, then index every pack not yet indexed."""
        for packer in self._packers.values():
            packer.flush()
        if self._uploads is not None:
            self._uploads.wait()
        self._write_index(force=True)

    def confirm_reused(self) -> None:
        """Raise unless every reused blob is still in the repository's index."""
        self.repo.confirm_indexed(self.reused)

    # -- internals -----------------------------------------------------------
    def abort(self) -> None:
        """Give up: remove staged packs that were not stored. Stored ones stay for prune."""
        for packer in self._packers.values():
            packer.abort()
        if self._uploads is not None:
            self._uploads.wait(raise_errors=False)

    def _store_pack(self, pack: FinishedPack) -> None:
        """Store a finished pack, then record it for the index (never before it is stored)."""
        if self._uploads is None:
            self._upload(pack)
        else:
            self._uploads.submit(lambda: self._upload(pack))

    def _upload(self, pack: FinishedPack) -> None:
        try:
            self.repo.backend.save_file(FileKind.PACK, pack.name, pack.path)
        except BaseException:
            pack.path.unlink(missing_ok=True)
            raise
        crash_point("pack-saved")
        self._on_stored(pack)

    def _on_stored(self, pack: FinishedPack) -> None:
        with self._index_lock:
            self.stats.packs += 1
            self._unindexed.append(pack)
        if len(self._unindexed) >= INDEX_EVERY_PACKS:
            self._write_index(force=False)

    def _write_index(self, force: bool) -> None:
        with self._index_lock:
            if not self._unindexed or (not force and len(self._unindexed) < INDEX_EVERY_PACKS):
                return
            packs, self._unindexed = self._unindexed, []
            entries: list[tuple[str, list[PackedBlob]]] = [(p.name, p.blobs) for p in packs]
            sealed = encode_index(entries, self.repo.sealer)
            name = content_hash(sealed)
            self.repo.backend.save(FileKind.INDEX, name, [sealed])
            crash_point("index-saved")
            self.written_index_files.append(name)
            self.repo.index_files[name] = [p.name for p in packs]
            for pack in packs:
                self.repo.index.add_pack(pack.name, pack.blobs)
