"""The Source contract (drkit.sources.base), run for every driver in SOURCES on real servers.

- **one snapshot per repository**: a backup into two repositories makes one
  snapshot in each, with the same id and time, ``paths == source.paths`` and
  ``meta["source.type"]`` the driver's type;
- **an unreachable source fails before anything is written**:
  SourceUnavailable, and neither repository holds a snapshot or a pack;
- **a failed dump saves nothing**: the dump tool killed mid-stream raises
  DumpFailed and no snapshot is recorded;
- **a non-empty target is refused without --force**: TargetNotEmpty (exit 22),
  the target left as it was.

Each driver has a :class:`Harness` in :data:`HARNESSES`; a registered driver
without one (or without a stated reason in :data:`ELSEWHERE`) fails.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.sources.base import META_TYPE, BackupRequest, RestoreRequest, SourceConfig
from drkit.sources.errors import DumpFailed, SourceUnavailable, TargetNotEmpty
from drkit.sources.registry import SOURCES, driver_for_snapshot, parse_source, source_for
from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend
from tests.fixtures.databases import (
    RedisServer,
    my_exec,
    my_url,
    pg_create,
    pg_exec,
)
from tests.fixtures.net import free_port


@dataclass
class Harness:
    live: Callable[[], SourceConfig]
    """A reachable source with some data."""
    unreachable: Callable[[], SourceConfig]
    non_empty_target: Callable[[], str]
    """A restore target that already holds data (refused without force)."""
    dump_tool: str | None = None
    """The child process whose death mid-stream must save nothing (None: in-process)."""
    big: Callable[[], SourceConfig] | None = None
    """A source whose dump takes long enough to be killed half-way."""
    unreachable_error: type[Exception] = SourceUnavailable


def _postgres(request: pytest.FixtureRequest, tmp: Path) -> Harness:
    names = request.getfixturevalue("pg_names")

    def live(rows: int = 100) -> SourceConfig:
        dsn = pg_create(names())
        fill = f"insert into t select g, repeat(md5(g::text), 40) from generate_series(1, {rows}) g"
        pg_exec(dsn, "create table t (id int primary key, v text)", fill)
        return parse_source(dsn)

    def target() -> str:
        dsn = pg_create(names())
        pg_exec(dsn, "create table keep_me (x int)")
        return dsn

    return Harness(
        live=live,
        unreachable=lambda: parse_source(f"postgresql://postgres@127.0.0.1:{free_port()}/x"),
        non_empty_target=target,
        dump_tool="pg_dump",
        big=lambda: live(60_000),
    )


def _mariadb(request: pytest.FixtureRequest, tmp: Path) -> Harness:
    names = request.getfixturevalue("mariadb_names")

    def live(rows: int = 100) -> SourceConfig:
        name = names()
        my_exec(None, f"create database `{name}`")
        fill = f"insert into t select seq, repeat(md5(seq), 40) from seq_1_to_{rows}"
        my_exec(name, "create table t (id int primary key, v longtext)", fill)
        return parse_source(my_url(name))

    def target() -> str:
        name = names()
        my_exec(None, f"create database `{name}`")
        my_exec(name, "create table keep_me (x int)")
        return my_url(name)

    return Harness(
        live=live,
        unreachable=lambda: parse_source(f"mariadb://root@127.0.0.1:{free_port()}/x"),
        non_empty_target=target,
        dump_tool="mariadb-dump",
        big=lambda: live(60_000),
    )


def _redis(request: pytest.FixtureRequest, tmp: Path) -> Harness:
    factory: Callable[[], RedisServer] = request.getfixturevalue("redis_factory")

    def live(values: int = 10) -> SourceConfig:
        server = factory()
        client = server.client()
        for i in range(values):
            client.set(f"k{i}", os.urandom(100_000))
        return parse_source(server.url)

    def target() -> str:
        data = tmp / "redis-data"
        data.mkdir()
        (data / "dump.rdb").write_bytes(b"old")
        return str(data)

    return Harness(
        live=live,
        unreachable=lambda: parse_source(f"redis://127.0.0.1:{free_port()}"),
        non_empty_target=target,
        dump_tool="redis-cli",
        big=lambda: live(300),
    )


def _sqlite(request: pytest.FixtureRequest, tmp: Path) -> Harness:
    def live() -> SourceConfig:
        db = tmp / "live.db"
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("create table t (v text)")
            conn.executemany("insert into t values (?)", [("x" * 100,)] * 100)
            conn.commit()
        return parse_source(f"sqlite://{db}")

    def target() -> str:
        other = tmp / "other.db"
        with closing(sqlite3.connect(other)) as conn:
            conn.execute("create table keep_me (x)")
        return str(other)

    return Harness(
        live=live,
        unreachable=lambda: parse_source(f"sqlite://{tmp / 'missing.db'}"),
        non_empty_target=target,
    )


def _files(request: pytest.FixtureRequest, tmp: Path) -> Harness:
    def live() -> SourceConfig:
        root = tmp / "tree"
        root.mkdir()
        (root / "a.txt").write_text("a" * 1000)
        return SOURCES.parse({"type": "files", "paths": [str(root)]})

    def target() -> str:
        folder = tmp / "restore-here"
        folder.mkdir()
        (folder / "keep_me").write_text("mine")
        return str(folder)

    return Harness(
        live=live,
        unreachable=lambda: SOURCES.parse({"type": "files", "paths": [str(tmp / "gone")]}),
        non_empty_target=target,
        unreachable_error=UsageError,  # a missing path is the user's to fix (exit 2), as restic
    )


HARNESSES: dict[str, Callable[[pytest.FixtureRequest, Path], Harness]] = {
    "postgres": _postgres,
    "mariadb": _mariadb,
    "redis": _redis,
    "sqlite": _sqlite,
    "files": _files,
}
ELSEWHERE = {
    "postgres-physical": "needs a cluster archiving into the repository: the same four "
    "contracts are tested in test_pg_physical.py on tests/fixtures/pgcluster.py",
}


def test_every_driver_is_covered() -> None:
    assert sorted([*HARNESSES, *ELSEWHERE]) == SOURCES.names


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return HARNESSES[request.param](request, tmp_path)


def _repos(tmp: Path) -> list[Repository]:
    return [Repository.init(LocalBackend(tmp / f"repo{i}"), "pw") for i in (1, 2)]


def test_one_snapshot_per_repository(harness: Harness, tmp_path: Path) -> None:
    config = harness.live()
    source = source_for(config)
    repos = _repos(tmp_path)
    made = source.backup(BackupRequest(repos, tags=["contract"]))
    assert len(made) == 2 and len({s.id for s in made}) == 1 and len({s.time for s in made}) == 1
    for repo in repos:
        (snapshot,) = repo.snapshots()
        assert snapshot.id == made[0].id and snapshot.paths == source.paths
        assert snapshot.meta.get(META_TYPE, "files") == config.type
        assert "contract" in snapshot.tags


def test_an_unreachable_source_writes_nothing(harness: Harness, tmp_path: Path) -> None:
    repos = _repos(tmp_path)
    with pytest.raises(harness.unreachable_error):
        source_for(harness.unreachable()).backup(BackupRequest(repos))
    for repo in repos:
        assert repo.snapshots() == []
        assert list(repo.backend.list(FileKind.PACK)) == []


class _KillAfter(Progress):
    """Kills this process's child named ``tool`` once the first bytes reached the repository."""

    def __init__(self, tool: str) -> None:
        super().__init__()
        self.tool, self.killed = tool, False

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        if not self.killed and self.bytes > 0:
            self.killed = True
            self.killed = _kill_child(self.tool)


def _kill_child(name: str) -> bool:
    me = str(os.getpid())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        command, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if command.startswith(name[:15]) and rest.split()[1] == me:
            os.kill(int(pid), 9)
            return True
    return False


def test_a_failed_dump_saves_nothing(harness: Harness, tmp_path: Path) -> None:
    if harness.dump_tool is None or harness.big is None:
        pytest.skip("reads in-process; a failure there is an exception before commit")
    repos = _repos(tmp_path)
    progress = _KillAfter(harness.dump_tool)
    with pytest.raises(DumpFailed):
        source_for(harness.big()).backup(BackupRequest(repos, progress=progress))
    assert progress.killed
    assert all(repo.snapshots() == [] for repo in repos)


def test_a_non_empty_target_is_refused_without_force(harness: Harness, tmp_path: Path) -> None:
    (repo,) = _repos(tmp_path)[:1]
    (snapshot,) = source_for(harness.live()).backup(BackupRequest([repo]))
    target = harness.non_empty_target()
    with pytest.raises(TargetNotEmpty) as caught:
        driver_for_snapshot(snapshot).restore(RestoreRequest(repo, snapshot, target))
    assert caught.value.exit_code == 22
