"""Prune: delete what no snapshot needs, and compact packs that are mostly garbage.

Three stages:

1. *Mark* (:func:`find_used_blobs`). Walk every snapshot's trees, each tree
   once, and collect the ids of every tree and data blob still in use.
2. *Plan* (:func:`plan_prune`, a pure function). Each used blob is given one
   stored copy, taken from the pack with the least garbage first, so extra
   copies (a blob in several packs) count as garbage. A pack holding none of
   those copies is deleted; a pack whose unused share of blob bytes exceeds
   ``max_unused`` percent is repacked; the others are kept as they are. Packs
   in storage that no index names (left by crashed backups) are deleted.
3. *Sweep* (:func:`execute_plan`), in an order that leaves a consistent
   repository wherever the process is killed:

   a. copy the used blobs of repacked packs into new packs, sealed bytes as
      they are (each verified first, never re-encrypted), then write a new
      index naming every remaining pack, kept and new;
   b. remove the old index files;
   c. remove the obsolete packs.

   Killed in (a), the old index still names everything and the new packs are
   unindexed leftovers; in (b), old and new index files overlap, and extra
   index entries for existing packs are harmless; in (c), no index names the
   obsolete packs any more. Either way the next prune finishes the job.

The caller holds an exclusive lock and loads the index *after* taking it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from drkit.errors import IntegrityError, ObjectNotFound, UsageError
from drkit.repository.blob import BlobLocation, PackedBlob
from drkit.repository.crypto import content_hash
from drkit.repository.faults import crash_point
from drkit.repository.index import MasterIndex, encode_index
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind

DEFAULT_MAX_UNUSED = 10.0
INDEX_PACKS_PER_FILE = 4096  # the rewritten index is split into files of this many packs

PackEntries = tuple[str, list[PackedBlob]]


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class PruneOptions:
    """How much garbage to tolerate, and how big new packs get."""

    max_unused: float = DEFAULT_MAX_UNUSED  # percent of a pack's blob bytes
    pack_size: int = 16 * 1024 * 1024
    dry_run: bool = False

    def __post_init__(self) -> None:
        check_max_unused(self.max_unused)


def check_max_unused(value: float) -> None:
    if not 0 <= value <= 100:
        raise UsageError(
            f"--max-unused must be a percentage from 0 to 100, not {value:g}",
            hint="0 repacks every pack with any garbage; 100 never repacks",
        )


# --------------------------------------------------------------------------------- plan


class PackAction(Enum):
    KEEP = "keep"
    REPACK = "repack"
    DELETE = "delete"


@dataclass(frozen=True)
class PlanStats:
    """Sizes behind a plan. Byte counts are stored (sealed) bytes."""

    packs_total: int = 0  # packs in storage, indexed or not
    bytes_total: int = 0
    used_bytes: int = 0  # one copy of every used blob
    unused_bytes: int = 0  # unused blobs, extra copies, unindexed packs
    blobs_removed: int = 0  # index entries that go away
    blobs_repacked: int = 0
    bytes_repacked: int = 0
    obsolete_bytes: int = 0  # size of the packs to remove

    @property
    def bytes_freed(self) -> int:
        """Expected space regained (new packs' headers aside)."""
        return self.obsolete_bytes - self.bytes_repacked


@dataclass(frozen=True)
class PrunePlan:
    """What prune will do; see the module docstring."""

    keep: tuple[str, ...] = ()
    repack: Mapping[str, tuple[PackedBlob, ...]] = field(default_factory=dict)  # blobs to copy
    delete: tuple[str, ...] = ()  # indexed packs holding nothing used
    unindexed: tuple[str, ...] = ()  # stored packs no index names
    missing: tuple[str, ...] = ()  # indexed packs absent from storage
    lost: frozenset[bytes] = frozenset()  # used blobs without any stored copy
    stats: PlanStats = field(default_factory=PlanStats)

    @property
    def obsolete(self) -> tuple[str, ...]:
        """Every pack the sweep removes."""
        return (*self.delete, *sorted(self.repack), *self.unindexed)

    @property
    def rewrites_index(self) -> bool:
        return bool(self.delete or self.repack or self.missing)

    @property
    def changes_anything(self) -> bool:
        return self.rewrites_index or bool(self.unindexed)


def plan_prune(
    indexed: Mapping[str, Sequence[PackedBlob]],
    stored: Mapping[str, int],
    used: Collection[bytes],
    max_unused: float,
) -> PrunePlan:
    """Decide the fate of every pack.

    ``indexed`` maps each pack the index names to its blobs, ``stored`` each
    pack in storage to its size, ``used`` holds the blob ids snapshots need,
    and ``max_unused`` is the tolerated garbage share of a pack in percent.
    """
    check_max_unused(max_unused)
    present = {name: tuple(blobs) for name, blobs in indexed.items() if name in stored}
    owned = _assign_copies(present, used)
    actions = {name: _decide(present[name], owned[name], max_unused) for name in present}
    keep = sorted(name for name, action in actions.items() if action is PackAction.KEEP)
    kept_ids = {b.id for name in keep for b in present[name]}
    repack: dict[str, tuple[PackedBlob, ...]] = {}
    delete = [name for name, action in actions.items() if action is PackAction.DELETE]
    for name in (n for n, action in actions.items() if action is PackAction.REPACK):
        copies = tuple(b for b in owned[name] if b.id not in kept_ids)
        if copies:
            repack[name] = copies
        else:
            delete.append(name)
    unindexed = sorted(set(stored) - set(indexed))
    plan = PrunePlan(
        keep=tuple(keep),
        repack=dict(sorted(repack.items())),
        delete=tuple(sorted(delete)),
        unindexed=tuple(unindexed),
        missing=tuple(sorted(set(indexed) - set(stored))),
        lost=frozenset(set(used) - {b.id for blobs in present.values() for b in blobs}),
    )
    return _with_stats(plan, present, owned, stored)


def _assign_copies(
    present: Mapping[str, tuple[PackedBlob, ...]], used: Collection[bytes]
) -> dict[str, list[PackedBlob]]:
    """Give every used blob one home: the first pack holding it, cleanest packs first.

    Among equally clean packs the one with more used bytes goes first, so a
    full pack wins over a small one holding extra copies of the same blobs.
    """

    def cleanest_first(name: str) -> tuple[float, int, str]:
        blobs = present[name]
        used_bytes = sum(b.length for b in blobs if b.id in used)
        return _garbage_share(blobs, used), -used_bytes, name

    order = sorted(present, key=cleanest_first)
    owned: dict[str, list[PackedBlob]] = {name: [] for name in present}
    seen: set[bytes] = set()
    for name in order:
        for blob in present[name]:
            if blob.id in used and blob.id not in seen:
                seen.add(blob.id)
                owned[name].append(blob)
    return owned


def _garbage_share(blobs: Sequence[PackedBlob], used: Collection[bytes]) -> float:
    total = sum(b.length for b in blobs)
    if total == 0:
        return 1.0
    return sum(b.length for b in blobs if b.id not in used) / total


def _decide(
    blobs: Sequence[PackedBlob], owned: Sequence[PackedBlob], max_unused: float
) -> PackAction:
    if not owned:
        return PackAction.DELETE
    total = sum(b.length for b in blobs)
    unused = total - sum(b.length for b in owned)
    return PackAction.REPACK if unused * 100 > max_unused * total else PackAction.KEEP


def _with_stats(
    plan: PrunePlan,
    present: Mapping[str, tuple[PackedBlob, ...]],
    owned: Mapping[str, list[PackedBlob]],
    stored: Mapping[str, int],
) -> PrunePlan:
    used_bytes = sum(b.length for blobs in owned.values() for b in blobs)
    blob_bytes = sum(b.length for blobs in present.values() for b in blobs)
    copies = [b for blobs in plan.repack.values() for b in blobs]
    dropped = sum(len(present[name]) for name in (*plan.delete, *plan.repack))
    stats = PlanStats(
        packs_total=len(stored),
        bytes_total=sum(stored.values()),
        used_bytes=used_bytes,
        unused_bytes=blob_bytes - used_bytes + sum(stored[name] for name in plan.unindexed),
        blobs_removed=dropped - len(copies),
        blobs_repacked=len(copies),
        bytes_repacked=sum(b.length for b in copies),
        obsolete_bytes=sum(stored[name] for name in plan.obsolete),
    )
    return PrunePlan(
        plan.keep, plan.repack, plan.delete, plan.unindexed, plan.missing, plan.lost, stats
    )


# --------------------------------------------------------------------------------- mark


def find_used_blobs(repo: Repository, snapshots: Iterable[Snapshot]) -> set[bytes]:
    """Ids of every tree and data blob the snapshots refer to; each tree is read once."""
    used: set[bytes] = set()
    seen_trees: set[bytes] = set()  # apart from `used`: a data blob may share a tree's id
    for snap in snapshots:
        try:
            _mark_tree(repo, snap.tree, used, seen_trees)
        except (IntegrityError, ObjectNotFound) as exc:
            raise IntegrityError(
                f"snapshot {snap.short_id} cannot be read completely: {exc}",
                hint="prune needs every snapshot's trees and changed nothing; "
                "run `drkit check` to see what is damaged",
            ) from None
    return used


def _mark_tree(repo: Repository, root: bytes, used: set[bytes], seen: set[bytes]) -> None:
    stack = [root]
    while stack:
        tree_id = stack.pop()
        if tree_id in seen:
            continue
        seen.add(tree_id)
        used.add(tree_id)
        for node in repo.load_tree(tree_id):
            used.update(node.content)
            if node.subtree is not None:
                stack.append(node.subtree)


def readable_snapshots(repo: Repository) -> list[Snapshot]:
    """All snapshots; prune refuses when one cannot be read, as its data is unknown."""
    damaged: dict[str, Exception] = {}
    snapshots = repo.snapshots(on_damaged=damaged.__setitem__)
    if damaged:
        name, exc = next(iter(damaged.items()))
        raise IntegrityError(
            f"snapshot {name[:8]} cannot be read ({exc}), so prune cannot know its data",
            hint="run `drkit check`; prune runs again once the snapshot is readable or removed",
        )
    return snapshots


def stored_packs(repo: Repository) -> dict[str, int]:
    return {info.name: info.size for info in repo.backend.list(FileKind.PACK)}


def plan_repository(
    repo: Repository, max_unused: float, exclude: Collection[str] = ()
) -> PrunePlan:
    """Mark and plan; ``exclude`` names snapshots to treat as already forgotten."""
    snapshots = [s for s in readable_snapshots(repo) if s.id not in exclude]
    used = find_used_blobs(repo, snapshots)
    plan = plan_prune(repo.index.packs(), stored_packs(repo), used, max_unused)
    if plan.lost:
        raise IntegrityError(
            f"{len(plan.lost)} blob(s) used by snapshots are in no stored pack; "
            "prune refuses to touch a damaged repository",
            hint="run `drkit check` to see which snapshots are affected",
        )
    return plan


# -------------------------------------------------------------------------------- sweep


@dataclass
class PruneResult:
    """What a prune did (or, with ``dry_run``, would do)."""

    plan: PrunePlan
    dry_run: bool
    packs_written: int = 0
    bytes_written: int = 0
    index_files_written: int = 0
    index_files_removed: int = 0
    packs_removed: int = 0
    bytes_removed: int = 0
    staging_removed: int = 0

    @property
    def bytes_freed(self) -> int:
        if self.dry_run:
            return self.plan.stats.bytes_freed
        return self.bytes_removed - self.bytes_written


def prune(repo: Repository, options: PruneOptions, exclude: Collection[str] = ()) -> PruneResult:
    """Plan and, unless ``options.dry_run``, carry out a prune of ``repo``."""
    plan = plan_repository(repo, options.max_unused, exclude)
    if options.dry_run:
        return PruneResult(plan, dry_run=True)
    return execute_plan(repo, plan, options.pack_size)


def execute_plan(repo: Repository, plan: PrunePlan, pack_size: int) -> PruneResult:
    """Carry out ``plan`` in the crash-safe order of the module docstring."""
    result = PruneResult(plan, dry_run=False)
    if plan.rewrites_index:
        _rewrite_index(repo, plan, pack_size, result)
    sizes = stored_packs(repo)
    for name in plan.obsolete:
        repo.backend.remove(FileKind.PACK, name)
        result.packs_removed += 1
        result.bytes_removed += sizes.get(name, 0)
        crash_point("prune-pack-removed")
    result.staging_removed = repo.backend.remove_staging()  # we hold the exclusive lock
    return result


def _rewrite_index(repo: Repository, plan: PrunePlan, pack_size: int, result: PruneResult) -> None:
    old_files = set(repo.index_files)
    packs = repo.index.packs()
    writer = BlobWriter(repo, pack_size=pack_size)
    new_packs = _repack(repo, writer, plan.repack)
    remaining: list[PackEntries] = [(name, packs[name]) for name in plan.keep] + new_packs
    written = _write_index(repo, remaining)
    crash_point("prune-index-written")
    for name in sorted((old_files | set(writer.written_index_files)) - set(written)):
        repo.backend.remove(FileKind.INDEX, name)
        result.index_files_removed += 1
        crash_point("prune-old-index-removed")
    _reset_index(repo, remaining, written)
    result.packs_written = len(new_packs)
    result.bytes_written = sum(repo.backend.stat(FileKind.PACK, n).size for n, _ in new_packs)
    result.index_files_written = len(written)


def _repack(
    repo: Repository, writer: BlobWriter, repack: Mapping[str, Sequence[PackedBlob]]
) -> list[PackEntries]:
    """Copy the given blobs into new packs; return the new packs with their blobs."""
    try:
        for pack, blobs in repack.items():
            for blob, sealed in _read_blobs(repo, pack, blobs):
                plain = _verified(repo, pack, blob, sealed)
                writer.add_sealed(blob.type, blob.id, sealed, blob.raw_length, len(plain))
        writer.flush()
    except BaseException:
        writer.abort()  # drops the half-filled pack; stored ones are left for the next prune
        raise
    names = sorted({p for f in writer.written_index_files for p in repo.index_files[f]})
    packs = repo.index.packs()
    return [(name, packs[name]) for name in names]


def _read_blobs(
    repo: Repository, pack: str, blobs: Sequence[PackedBlob]
) -> Iterable[tuple[PackedBlob, bytes]]:
    """The sealed bytes of each blob, read in one range covering them all."""
    start = min(b.offset for b in blobs)
    end = max(b.offset + b.length for b in blobs)
    data = repo.backend.load(FileKind.PACK, pack, start, end - start)
    for blob in blobs:
        yield blob, data[blob.offset - start : blob.offset - start + blob.length]


def _verified(repo: Repository, pack: str, blob: PackedBlob, sealed: bytes) -> bytes:
    loc = BlobLocation(pack, blob.type, blob.offset, blob.length, blob.raw_length)
    try:
        return repo.open_blob(blob.id, loc, sealed)
    except IntegrityError as exc:
        raise IntegrityError(
            f"cannot repack: {exc}",
            hint="prune stopped before removing anything; run `drkit check --read-data`",
        ) from None


def _index_chunks(packs: Sequence[PackEntries]) -> list[Sequence[PackEntries]]:
    return [packs[i : i + INDEX_PACKS_PER_FILE] for i in range(0, len(packs), INDEX_PACKS_PER_FILE)]


def _write_index(repo: Repository, packs: Sequence[PackEntries]) -> list[str]:
    names = []
    for chunk in _index_chunks(packs):
        sealed = encode_index(chunk, repo.sealer)
        name = content_hash(sealed)
        repo.backend.save(FileKind.INDEX, name, [sealed])
        names.append(name)
    return names


def _reset_index(repo: Repository, packs: Sequence[PackEntries], files: Sequence[str]) -> None:
    """Make the in-memory index match what is now stored."""
    repo.index = MasterIndex()
    for name, blobs in packs:
        repo.index.add_pack(name, blobs)
    chunks = _index_chunks(packs)
    repo.index_files = {f: [n for n, _ in c] for f, c in zip(files, chunks, strict=True)}


__all__ = [
    "DEFAULT_MAX_UNUSED",
    "PackAction",
    "PlanStats",
    "PruneOptions",
    "PrunePlan",
    "PruneResult",
    "execute_plan",
    "find_used_blobs",
    "plan_prune",
    "plan_repository",
    "prune",
    "readable_snapshots",
]
