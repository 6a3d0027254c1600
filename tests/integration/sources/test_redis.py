"""Redis backups (RDB over the replication protocol) against private redis-servers."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.sources.base import BackupRequest
from drkit.sources.errors import DumpFailed
from drkit.sources.registry import parse_source, source_for
from drkit.storage.local import LocalBackend
from tests.conftest import Runner
from tests.fixtures.databases import (
    RedisServer,
    free_port,
    redis_factory_fixture,  # noqa: F401  (the redis_factory fixture)
)

Factory = Callable[..., RedisServer]


def _fill(server: RedisServer) -> None:
    db0, db3 = server.client(0), server.client(3)
    db0.set("greeting", "hello")
    db0.set(b"bin\x00key", bytes(range(256)))
    db0.hset("user:1", mapping={"name": "ada", "age": "36"})
    db0.rpush("queue", *[f"job{i}" for i in range(500)])
    db0.sadd("tags", "a", "b", "c")
    db0.zadd("scores", {"x": 1.5, "y": 2.5})
    db0.set("session", "s", ex=86400)
    for i in range(2000):
        db3.set(f"k{i}", f"value {i}" * 10)


def _value(client: redis.Redis, key: bytes) -> tuple[bytes, object]:
    kind = client.type(key)
    if kind == b"string":
        return kind, client.get(key)
    if kind == b"hash":
        return kind, client.hgetall(key)
    if kind == b"list":
        return kind, client.lrange(key, 0, -1)
    if kind == b"set":
        return kind, client.smembers(key)  # a set: its order is not part of the value
    return kind, client.zrange(key, 0, -1, withscores=True)


def _contents(server: RedisServer) -> dict[tuple[int, bytes], tuple[bytes, object]]:
    """Every key of every database with its type and value."""
    found = {}
    for db in range(16):
        client = server.client(db)
        for key in client.scan_iter(count=1000):
            found[(db, key)] = _value(client, key)
    return found


def test_backup_and_restore_into_a_data_directory(
    initialized: Runner, redis_factory: Factory, tmp_path: Path
) -> None:
    source = redis_factory()
    _fill(source)
    done = json.loads(initialized("db", "backup", source.url, "--json").check().stdout)
    assert done["meta"]["source.type"] == "redis"
    assert done["paths"] == [f"/redis/127.0.0.1:{source.port}"]

    data_dir = tmp_path / "restored-redis"
    restored = initialized("db", "restore", "latest", "--to", str(data_dir)).check()
    assert f"redis-server --dir {data_dir}" in restored.stdout
    assert (data_dir / "dump.rdb").exists()

    again = redis_factory(data_dir)
    original = _contents(source)
    assert len(original) == 2007
    assert _contents(again) == original
    assert again.client(0).ttl("session") > 0


def test_a_data_directory_holding_an_rdb_needs_force(
    initialized: Runner, redis_factory: Factory, tmp_path: Path
) -> None:
    source = redis_factory()
    _fill(source)
    initialized("db", "backup", source.url).check()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "dump.rdb").write_bytes(b"old")
    refused = initialized("db", "restore", "latest", "--to", str(data_dir))
    assert refused.returncode == 22, refused.stderr
    assert (data_dir / "dump.rdb").read_bytes() == b"old"
    initialized("db", "restore", "latest", "--to", str(data_dir), "--force").check()
    assert (data_dir / "dump.rdb").read_bytes().startswith(b"REDIS")


def test_a_server_that_is_down_is_a_clear_error(initialized: Runner) -> None:
    failed = initialized("db", "backup", f"redis://127.0.0.1:{free_port()}")
    assert failed.returncode == 20, failed.stderr
    assert "cannot connect to Redis" in failed.stderr
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


class _KillAfter(Progress):
    """Sends SIGKILL to ``pid()`` once this many bytes went into the repository."""

    def __init__(self, limit: int, pid: Callable[[], int | None]) -> None:
        super().__init__()
        self.limit, self.pid, self.killed = limit, pid, False

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        if not self.killed and self.bytes >= self.limit:
            target = self.pid()
            if target is not None:
                os.kill(target, signal.SIGKILL)
                self.killed = True


def _child_named(name: str) -> int | None:
    me = str(os.getpid())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.split("(", 1)[1].startswith(name) and stat.rsplit(")", 1)[1].split()[1] == me:
            return int(pid)
    return None


def _big(server: RedisServer) -> None:
    client = server.client()
    for i in range(300):  # about 30 MiB of incompressible values
        client.set(f"blob{i}", os.urandom(100_000))


@pytest.mark.parametrize("victim", ["redis-cli", "redis-server"])
def test_a_dump_that_dies_mid_stream_records_no_snapshot(
    redis_factory: Factory, tmp_path: Path, victim: str
) -> None:
    source = redis_factory()
    _big(source)
    repo = Repository.init(LocalBackend(tmp_path / "repo"), "pw")
    pid = (lambda: _child_named("redis-cli")) if victim == "redis-cli" else (lambda: source.pid)
    progress = _KillAfter(4 * 1024 * 1024, pid)
    with pytest.raises(DumpFailed, match="redis-cli"):
        source_for(parse_source(source.url)).backup(BackupRequest([repo], progress=progress))
    assert progress.killed
    assert repo.snapshots() == []
