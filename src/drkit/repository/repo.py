"""An open repository: keys, config, index, and reading blobs and snapshots.

This is the object every command works through. Writing new blobs goes
through :class:`drkit.repository.writer.BlobWriter`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from drkit.errors import (
    IntegrityError,
    ObjectNotFound,
    RepositoryExists,
    RepositoryNotFound,
    StorageError,
)
from drkit.repository.blob import BlobLocation, BlobType
from drkit.repository.compression import decompress
from drkit.repository.crypto import DecryptError, IdHasher, MasterKey, Sealer
from drkit.repository.index import IndexFormatError, MasterIndex, decode_index
from drkit.repository.keys import KeyCache, add_key_slot, open_master_key
from drkit.repository.repoconfig import CONFIG_AAD, RepoConfig
from drkit.repository.snapshot import Snapshot, snapshot_aad
from drkit.repository.tree import Node, decode_tree
from drkit.storage.base import Backend, FileKind


@dataclass
class IndexLoadReport:
    """Index files that could not be read while loading the index."""

    damaged: dict[str, str] = field(default_factory=dict)


class Repository:
    """A repository opened with its master key."""

    def __init__(
        self, backend: Backend, master: MasterKey, config: RepoConfig, key_slot: str = ""
    ) -> None:
        self.backend = backend
        self.master = master
        self.config = config
        self.key_slot = key_slot
        self.sealer = Sealer(master.encryption)
        self.hash_id = IdHasher(master.id_key)
        self.index = MasterIndex()
        self.index_files: dict[str, list[str]] = {}  # index file -> packs it names
        self.index_loaded = False
        self.index_strict = True
        # snapshot id -> its decrypted document, kept by a long-lived caller (the API's
        # workspace) across openings: a snapshot object never changes under its id
        self.snapshot_cache: dict[str, bytes] | None = None

    # -- opening -----------------------------------------------------------
    @classmethod
    def init(cls, backend: Backend, password: str) -> Repository:
        leftovers = [] if backend.exists(FileKind.CONFIG, "config") else _leftovers(backend)
        if leftovers:
            raise RepositoryExists(
                f"{backend.location} holds repository data ({', '.join(leftovers)}) but no "
                "config: a new repository there would hide its snapshots",
                hint="restore the `config` file from another copy of this repository; "
                "to start afresh, move the folder away first",
            )
        backend.create()
        master, config = MasterKey.generate(), RepoConfig.new()
        slot = add_key_slot(backend, master, password)
        sealed = Sealer(master.encryption).seal(config.encode(), CONFIG_AAD)
        backend.save(FileKind.CONFIG, "config", [sealed])
        return cls(backend, master, config, slot)

    @classmethod
    def open(cls, backend: Backend, password: str, key_cache: KeyCache | None = None) -> Repository:
        """Open the repository at ``backend`` with ``password``; ``key_cache`` keeps the
        keys derived from passphrases for the next opening in this process (a daemon)."""
        if not backend.exists(FileKind.CONFIG, "config"):
            try:
                leftovers = _repository_data(backend)
            except ObjectNotFound:  # the place itself is missing (an S3 bucket not created)
                leftovers = []
            if leftovers:
                raise RepositoryNotFound(
                    f"the repository at {backend.location} has lost its `config` file "
                    f"({', '.join(leftovers)} are there)",
                    hint="restore `config` from another copy of this repository; do not run "
                    "`drkit init` there (it refuses: that would hide the snapshots)",
                )
            raise RepositoryNotFound(f"no drkit repository at {backend.location}")
        master, slot = open_master_key(backend, password, key_cache)
        try:
            raw = Sealer(master.encryption).open(
                backend.load(FileKind.CONFIG, "config"), CONFIG_AAD
            )
        except DecryptError:
            raise IntegrityError(
                "the repository's config object is damaged",
                hint="restore the `config` file from another copy",
            ) from None
        return cls(backend, master, RepoConfig.decode(raw), slot)

    # -- index -------------------------------------------------------------
    def load_index(self, strict: bool = True) -> IndexLoadReport:
        """Read every index file; with ``strict``, a damaged one is an error."""
        report = IndexLoadReport()
        self.index, self.index_files, self.index_loaded = MasterIndex(), {}, True
        self.index_strict = strict
        names = [info.name for info in self.backend.list(FileKind.INDEX)]
        with ThreadPoolExecutor(4) as pool:
            for name, result in zip(names, pool.map(self._read_index_file, names), strict=True):
                if isinstance(result, str):
                    report.damaged[name] = result
                    continue
                self.index_files[name] = [pack for pack, _ in result]
                for pack, blobs in result:
                    self.index.add_pack(pack, blobs)
        if strict and report.damaged:
            first = next(iter(report.damaged))
            raise IntegrityError(
                f"index file {first[:12]} is damaged: {report.damaged[first]}",
                hint="run `drkit check` for details; `drkit repair index` "
                "rebuilds the index from the packs",
            )
        return report

    def confirm_indexed(self, blob_ids: Iterable[bytes]) -> None:
        """Raise unless every blob is still indexed in storage (call before saving a snapshot).

        Only prune and repair remove index files, under an exclusive lock that
        the caller's shared lock keeps out. If index files loaded earlier are
        gone all the same (a lock removed by hand, a prune that did not see
        this lock), the index is read again and every blob checked in it.
        """
        present = {info.name for info in self.backend.list(FileKind.INDEX)}
        if set(self.index_files) <= present:
            return
        fresh = Repository(self.backend, self.master, self.config, self.key_slot)
        fresh.load_index(strict=False)
        missing = [b for b in blob_ids if b not in fresh.index]
        if missing:
            raise IntegrityError(
                f"{len(missing)} blob(s) this operation reuses were removed from the "
                f"repository while it ran (blob {missing[0].hex()[:12]} and others); "
                "the snapshot was not saved",
                hint="a prune ran without seeing this operation's lock (was a lock removed "
                "by hand?); run the operation again: it stores the data anew",
            )

    def _read_index_file(self, name: str) -> list[tuple[str, list]] | str:  # type: ignore[type-arg]
        try:
            return decode_index(self.backend.load(FileKind.INDEX, name), self.sealer)
        except (IndexFormatError, ObjectNotFound) as exc:
            return str(exc)

    # -- blobs -------------------------------------------------------------
    def lookup(self, blob_id: bytes) -> BlobLocation:
        loc = self.index.get(blob_id)
        if loc is None:
            raise IntegrityError(
                f"blob {blob_id.hex()[:12]} is not in the index",
                hint="run `drkit check` to find what is missing",
            )
        return loc

    def load_blob(self, blob_id: bytes) -> bytes:
        loc = self.lookup(blob_id)
        sealed = self.backend.load(FileKind.PACK, loc.pack, loc.offset, loc.length)
        return self.open_blob(blob_id, loc, sealed)

    def open_blob(self, blob_id: bytes, loc: BlobLocation, sealed: bytes | memoryview) -> bytes:
        """Decrypt, decompress and verify one blob read from its pack."""
        import zstandard

        try:
            plain = decompress(self.sealer.open(sealed, blob_id), loc.raw_length)
        except (DecryptError, zstandard.ZstdError) as exc:
            raise IntegrityError(
                f"blob {blob_id.hex()[:12]} in pack {loc.pack[:12]} is damaged: {exc}"
            ) from None
        if self.hash_id(plain) != blob_id:
            raise IntegrityError(f"blob {blob_id.hex()[:12]} does not match its id")
        return plain

    def load_tree(self, tree_id: bytes) -> list[Node]:
        return decode_tree(self.load_blob(tree_id))

    def walk(self, tree_id: bytes, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Yield (path, node) depth-first for everything under a tree."""
        for node in self.load_tree(tree_id):
            path = f"{prefix}/{node.name}"
            yield path, node
            if node.subtree is not None:
                yield from self.walk(node.subtree, path)

    # -- snapshots ---------------------------------------------------------
    def save_snapshot(self, snap: Snapshot) -> None:
        sealed = self.sealer.seal(snap.encode(), snapshot_aad(snap.id))
        self.backend.save(FileKind.SNAPSHOT, snap.id, [sealed])

    def load_snapshot(self, snapshot_id: str) -> Snapshot:
        cache = self.snapshot_cache
        plain = cache.get(snapshot_id) if cache is not None else None
        if plain is None:
            raw = self.backend.load(FileKind.SNAPSHOT, snapshot_id)
            try:
                plain = self.sealer.open(raw, snapshot_aad(snapshot_id))
            except DecryptError:
                raise IntegrityError(f"snapshot {snapshot_id[:8]} is damaged") from None
        doc = json.loads(plain)
        snap = Snapshot.from_json(doc)
        if cache is not None:
            cache[snapshot_id] = plain
        return snap

    def snapshots(
        self,
        on_damaged: Callable[[str, Exception], None] | None = None,
    ) -> list[Snapshot]:
        """All readable snapshots, oldest first. Damaged ones go to ``on_damaged``."""
        names = [info.name for info in self.backend.list(FileKind.SNAPSHOT)]
        if self.snapshot_cache is not None:  # forgotten ones leave the cache
            for gone in set(self.snapshot_cache) - set(names):
                self.snapshot_cache.pop(gone, None)
        found = []
        for name in names:
            try:
                found.append(self.load_snapshot(name))
            except (IntegrityError, ObjectNotFound, ValueError, KeyError) as exc:
                if on_damaged is None:
                    raise
                on_damaged(name, exc)
        return sorted(found, key=lambda s: (s.time, s.id))

    def remove_snapshot(self, snapshot_id: str) -> None:
        self.backend.remove(FileKind.SNAPSHOT, snapshot_id)


def _leftovers(backend: Backend) -> list[str]:
    """Repository data where there is no config yet (a place not created lists nothing)."""
    try:
        return _repository_data(backend)
    except StorageError:
        return []


def _repository_data(backend: Backend) -> list[str]:
    """The kinds of repository objects present (keys/, snapshots/, index/, data/)."""
    found = []
    for kind in (FileKind.KEY, FileKind.SNAPSHOT, FileKind.INDEX, FileKind.PACK):
        if next(iter(backend.list(kind)), None) is not None:
            found.append("data/" if kind is FileKind.PACK else f"{kind.value}/")
    return found


__all__ = ["BlobType", "IndexLoadReport", "Repository"]
