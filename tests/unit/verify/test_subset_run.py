"""run_subset_check on an in-memory repository: the rotation reads real packs with the Checker."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from drkit.repository.blob import BlobType
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node, NodeType, encode_tree
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend
from drkit.verify.ledger_memory import MemoryPackCheckLedger
from drkit.verify.subset import Budget, PackStatus, Rotation, run_subset_check

T0 = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@functools.cache
def _template() -> Repository:
    return Repository.init(MemoryBackend(), "pw")


def repo_with_backups(count: int) -> Repository:
    """``count`` backups of one file each: every backup writes a data pack and a tree pack."""
    template = _template()
    backend = MemoryBackend()
    backend.save(FileKind.CONFIG, "config", [template.backend.load(FileKind.CONFIG, "config")])
    repo = Repository(backend, template.master, template.config)
    for i in range(count):
        writer = BlobWriter(repo)
        blob, _ = writer.save(BlobType.DATA, f"file {i} ".encode() * 1000)
        node = Node(f"f{i}", NodeType.FILE, size=8000, content=[blob])
        tree, _ = writer.save(BlobType.TREE, encode_tree([node]))
        writer.flush()
        repo.save_snapshot(Snapshot(T0, tree, ["/"], "h", "u"))
    return fresh(repo)


def fresh(repo: Repository) -> Repository:
    """The repository as a new process opens it: no index loaded."""
    return Repository(repo.backend, repo.master, repo.config)


def stored_packs(repo: Repository) -> set[str]:
    return {info.name for info in repo.backend.list(FileKind.PACK)}


def test_runs_cover_every_pack_within_the_period() -> None:
    repo = repo_with_backups(6)
    packs = stored_packs(repo)
    ledger = MemoryPackCheckLedger()
    rotation = Rotation(period=timedelta(days=5), interval=DAY, by=Budget.COUNT)

    first = run_subset_check(fresh(repo), ledger, rotation, now=T0)
    assert first.ok and first.packs_total == len(packs) == 12
    assert len(first.results) == 3  # ceil(12 / 4 runs)
    assert set(first.overdue) == packs - {r.name for r in first.results}

    read = {r.name for r in first.results}
    for day in range(1, 4):
        result = run_subset_check(fresh(repo), ledger, rotation, now=T0 + day * DAY)
        assert result.ok and all(r.status is PackStatus.OK for r in result.results)
        read |= {r.name for r in result.results}
    assert read == packs
    assert set(ledger.last_checked(repo.config.id)) == packs
    assert result.overdue == ()


def test_a_damaged_pack_is_reported_and_not_recorded_as_good() -> None:
    repo = repo_with_backups(3)
    loaded = fresh(repo)
    loaded.load_index()
    victim = next(iter(loaded.index.items()))
    blob_id, loc = victim
    data = bytearray(repo.backend.load(FileKind.PACK, loc.pack))
    data[loc.offset + loc.length // 2] ^= 1
    repo.backend.save(FileKind.PACK, loc.pack, [bytes(data)])
    ledger = MemoryPackCheckLedger()
    everything = Rotation(period=DAY, interval=DAY)

    result = run_subset_check(fresh(repo), ledger, everything, now=T0)

    assert not result.ok
    [damaged] = result.damaged
    assert damaged.name == loc.pack
    assert any(blob_id.hex() in p for p in damaged.problems)
    assert len(result.results) == len(stored_packs(repo))
    assert loc.pack not in ledger.last_checked(repo.config.id)
    assert loc.pack in result.overdue

    # the damaged pack stays at the front of the rotation
    monthly = Rotation(period=timedelta(days=30), interval=DAY, by=Budget.COUNT)
    again = run_subset_check(fresh(repo), ledger, monthly, now=T0 + DAY)
    assert again.results[0].name == loc.pack
