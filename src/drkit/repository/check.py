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

import math
import random
import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import blake3

from drkit.errors import IntegrityError, StorageError, UsageError
from drkit.repository.blob import BlobLocation, BlobType, PackedBlob
from drkit.repository.pack import PackFormatError, expected_size, read_header
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node
from drkit.storage.base import FileKind

READ_PIECE = 4 * 1024 * 1024  # packs are read and hashed in pieces of this size

# -- what to read ----------------------------------------------------------------

_GROUP = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


@dataclass(frozen=True)
class PackSubset:
    """Which packs ``--read-data`` reads: all, a random percentage, or group n of t.

    Group ``n/t`` holds the packs whose first byte (two hex digits) modulo
    ``t`` is ``n - 1``, so running ``1/t`` to ``t/t`` reads every pack once.
    """

    percent: float | None = None
    group: tuple[int, int] | None = None

    @classmethod
    def parse(cls, text: str) -> PackSubset:
        text = text.strip()
        if m := _GROUP.match(text):
            n, t = int(m[1]), int(m[2])
            if 1 <= n <= t:
                return cls(group=(n, t))
        elif m := _PERCENT.match(text):
            pct = float(m[1])
            if 0 < pct <= 100:
                return cls(percent=pct)
        raise UsageError(
            f"invalid read-data subset {text!r}",
            hint="give a percentage such as 10% (more than 0, at most 100), "
            "or n/t such as 1/5 (n from 1 to t)",
        )

    def select(self, names: Iterable[str], rng: random.Random | None = None) -> list[str]:
        """The chosen names among ``names``, sorted."""
        ordered = sorted(names)
        if self.group is not None:
            n, t = self.group
            return [name for name in ordered if int(name[:2], 16) % t == n - 1]
        if self.percent is not None:
            count = math.ceil(len(ordered) * self.percent / 100)
            return sorted((rng or random.SystemRandom()).sample(ordered, count))
        return ordered

    @property
    def reads_all(self) -> bool:
        return self.percent is None and self.group is None

    def describe(self) -> str:
        if self.group is not None:
            return f"{self.group[0]}/{self.group[1]}"
        if self.percent is not None:
            return f"{self.percent:g}%"
        return "all"


# -- the report ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding about one stored object.

    ``kind`` is ``index``, ``pack``, ``snapshot`` or ``blob``; ``name`` is the
    object's full name (a blob's id in hex).
    """

    kind: str
    name: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass(frozen=True)
class AffectedPath:
    """A path in a snapshot that cannot be restored in full, and why."""

    path: str
    reason: str


@dataclass
class AffectedSnapshot:
    id: str
    time: datetime
    paths: list[AffectedPath]

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass
class CheckCounts:
    snapshots: int = 0
    index_files: int = 0
    packs: int = 0  # packs in storage
    blobs: int = 0  # blobs in the index
    trees: int = 0  # distinct trees walked
    packs_read: int = 0
    blobs_read: int = 0
    bytes_read: int = 0


@dataclass
class CheckReport:
    """Everything a check found; ``ok`` when no error was found."""

    read_data: str | None  # the subset read ("all", "10%", "1/5"), None: structure only
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    damaged_blobs: list[bytes] = field(default_factory=list)
    affected: list[AffectedSnapshot] = field(default_factory=list)
    counts: CheckCounts = field(default_factory=CheckCounts)
    hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "read_data": self.read_data,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "damaged_blobs": [b.hex() for b in self.damaged_blobs],
            "affected": {
                a.id: [{"path": p.path, "reason": p.reason} for p in a.paths] for a in self.affected
            },
            "counts": asdict(self.counts),
            "hints": self.hints,
        }


# -- the checker -----------------------------------------------------------------


class Checker:
    """Checks one repository, opened without its index loaded (the checker loads it)."""

    def __init__(
        self,
        repo: Repository,
        *,
        read_data: PackSubset | None = None,
        progress: Progress | None = None,
        workers: int = 3,
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
        if self._index_damaged or self._missing_from_index:
            hints.append(
                "`drkit repair index` rebuilds the index from the pack headers; "
                "run it, then check again"
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


# -- tracing damage to paths -----------------------------------------------------

_UNKNOWN_BELOW = "directory listing damaged: everything below it is unknown"


class DamageMapper:
    """Finds the paths of snapshots that need a damaged blob.

    Each distinct tree is resolved once; a tree's result is the list of
    affected paths relative to it, which every parent that holds it reuses.
    """

    def __init__(self, repo: Repository, damaged: set[bytes]) -> None:
        self.repo = repo
        self.damaged = damaged
        self._memo: dict[bytes, list[AffectedPath]] = {}

    def map(self, snapshots: list[Snapshot]) -> list[AffectedSnapshot]:
        if not self.damaged:
            return []
        found = []
        for snap in snapshots:
            paths = self.affected(snap.tree)
            if paths:
                found.append(AffectedSnapshot(snap.id, snap.time, paths))
        return found

    def affected(self, root: bytes) -> list[AffectedPath]:
        """Affected paths under tree ``root`` (``/`` is the tree itself)."""
        self._resolve(root)
        return [AffectedPath(p.path or "/", p.reason) for p in self._memo[root]]

    def _resolve(self, root: bytes) -> None:
        """Fill the memo for ``root`` and every tree below it, children first."""
        pending: dict[bytes, list[Node]] = {}
        stack = [root]
        while stack:
            tree_id = stack[-1]
            if tree_id in self._memo:
                stack.pop()
                continue
            nodes = pending.get(tree_id)
            if nodes is None:
                loaded = self._load(tree_id)
                if loaded is None:
                    self._memo[tree_id] = [AffectedPath("", _UNKNOWN_BELOW)]
                    stack.pop()
                    continue
                pending[tree_id] = loaded
                children = [n.subtree for n in loaded if n.subtree is not None]
                todo = [c for c in children if c not in self._memo and c not in pending]
                if todo:
                    stack.extend(todo)
                    continue
                nodes = loaded
            self._memo[tree_id] = self._combine(nodes)
            del pending[tree_id]
            stack.pop()

    def _load(self, tree_id: bytes) -> list[Node] | None:
        if tree_id in self.damaged:
            return None
        try:
            return self.repo.load_tree(tree_id)
        except (IntegrityError, StorageError, ValueError, KeyError, TypeError):
            return None

    def _combine(self, nodes: list[Node]) -> list[AffectedPath]:
        found: list[AffectedPath] = []
        for node in nodes:
            path = f"/{node.name}"
            bad = sum(1 for b in node.content if b in self.damaged)
            if bad:
                found.append(
                    AffectedPath(
                        path, f"{bad} of {len(node.content)} content blobs damaged or missing"
                    )
                )
            if node.subtree is not None:
                below = self._memo.get(node.subtree, [AffectedPath("", _UNKNOWN_BELOW)])
                found.extend(AffectedPath(path + p.path, p.reason) for p in below)
        return found


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
