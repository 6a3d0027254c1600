"""Storage faults: the fault proxy itself, then drkit against S3 through it."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Result, make_data_tree, tree_digest
from tests.fixtures.faultproxy import FaultProxy, Faults
from tests.fixtures.s3 import FAKE_AWS_ENV, moto_server, s3_bucket, s3_endpoint

__all__ = ["moto_server", "s3_bucket", "s3_endpoint"]  # fixtures used by name


# -- the fault proxy against a byte-counting server ---------------------------------
class SinkServer:
    """Reads each connection to its end, records how many bytes came, answers ``got N``."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.received: queue.Queue[int] = queue.Queue()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        total = 0
        with conn:
            try:
                while data := conn.recv(65536):
                    total += len(data)
                conn.sendall(f"got {total}".encode())
            except OSError:
                pass
            self.received.put(total)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    server = SinkServer()
    yield server
    server.close()


def exchange(port: int, payload: bytes) -> bytes | None:
    """Send ``payload``, half-close, read the answer; None if the connection was broken."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while data := sock.recv(4096):
                answer += data
    except OSError:
        return None
    return answer or None


def test_the_proxy_forwards_both_ways_and_counts(sink: SinkServer) -> None:
    with FaultProxy(sink.port) as proxy:
        assert exchange(proxy.port, b"x" * 300_000) == b"got 300000"
        assert exchange(proxy.port, b"y" * 10) == b"got 10"
        counters = proxy.counters()
    assert (counters.accepted, counters.bytes_up, counters.bytes_down) == (2, 300_010, 16)
    assert (counters.cut, counters.reset, counters.refused) == (0, 0, 0)


def test_the_proxy_cuts_the_first_connections_after_k_bytes(sink: SinkServer) -> None:
    with FaultProxy(sink.port, Faults(cut_after_bytes=1000, cut_connections=2)) as proxy:
        results = [exchange(proxy.port, b"z" * 200_000) for _ in range(3)]
        counters = proxy.counters()
    assert results == [None, None, b"got 200000"]
    assert sorted(sink.received.get(timeout=30) for _ in range(3)) == [1000, 1000, 200_000]
    assert counters.cut == 2
    assert counters.bytes_up == 1000 + 1000 + 200_000


def test_the_proxy_resets_every_mth_connection(sink: SinkServer) -> None:
    with FaultProxy(sink.port, Faults(reset_every=2)) as proxy:
        results = [exchange(proxy.port, b"a" * 100) for _ in range(4)]
        counters = proxy.counters()
    assert results == [b"got 100", None, b"got 100", None]
    assert (counters.accepted, counters.reset, counters.cut) == (4, 2, 0)


def test_an_outage_breaks_every_connection_after_b_bytes(sink: SinkServer) -> None:
    with FaultProxy(sink.port, Faults(outage_after_bytes=5000)) as proxy:
        first = exchange(proxy.port, b"b" * 4000)
        second = exchange(proxy.port, b"b" * 4000)  # crosses 5000 on the way
        later = [exchange(proxy.port, b"b") for _ in range(3)]
        counters = proxy.counters()
    assert first == b"got 4000"
    assert second is None
    assert later == [None, None, None]
    assert counters.reset == 3
    assert counters.cut >= 1


def test_an_outage_can_begin_at_any_time(sink: SinkServer) -> None:
    with FaultProxy(sink.port) as proxy:
        assert exchange(proxy.port, b"c") == b"got 1"
        proxy.begin_outage()
        assert exchange(proxy.port, b"c") is None
        assert proxy.counters().reset == 1


def test_the_proxy_bounds_its_connections(sink: SinkServer) -> None:
    with FaultProxy(sink.port, max_connections=1) as proxy:
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
        held.sendall(b"hold")
        try:
            assert exchange(proxy.port, b"d") is None
            assert proxy.counters().refused == 1
        finally:
            held.close()


def test_stop_ends_every_proxy_thread(sink: SinkServer) -> None:
    proxy = FaultProxy(sink.port).start()
    idle = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
    idle.sendall(b"open")
    proxy.stop()
    idle.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("faultproxy")]


# -- drkit against S3 through the proxy -------------------------------------------------
Digest = dict[str, tuple[str, int, str]]
RETRY_ENV = {"DRKIT_RETRY_BASE_DELAY": "0.01", "DRKIT_RETRY_MAX_DELAY": "0.1"}


@dataclass
class S3Repo:
    """One repository in a fresh bucket; ``run`` reaches it through any endpoint."""

    bucket: str
    moto: str  # the server's own endpoint: a direct connection
    env: dict[str, str]
    config: Path  # drkit.yaml with 4 MiB packs

    @property
    def moto_port(self) -> int:
        return int(self.moto.rsplit(":", 1)[1])

    def url(self, endpoint: str) -> str:
        return f"s3://{self.bucket}/repo?endpoint={endpoint}"

    def run(self, endpoint: str, *args: str, env: dict[str, str] | None = None) -> Result:
        argv = ["--repo", self.url(endpoint), "--config", str(self.config), *args]
        proc = subprocess.run(
            [sys.executable, "-m", "drkit", *argv],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return Result(argv, proc.returncode, proc.stdout, proc.stderr)

    def direct(self, *args: str) -> Result:
        return self.run(self.moto, *args)

    def snapshot_ids(self) -> list[str]:
        return [s["id"] for s in json.loads(self.direct("snapshots", "--json").check().stdout)]


@pytest.fixture
def s3_repo(s3_endpoint: str, s3_bucket: str, drkit_env: dict[str, str], tmp_path: Path) -> S3Repo:
    config = tmp_path / "drkit.yaml"
    config.write_text("version: 1\nbackup:\n  pack_size_mib: 4\n")
    repo = S3Repo(s3_bucket, s3_endpoint, {**drkit_env, **FAKE_AWS_ENV}, config)
    repo.direct("init").check()
    return repo


def retries(attempts: int) -> dict[str, str]:
    return {**RETRY_ENV, "DRKIT_RETRY_ATTEMPTS": str(attempts)}


def assert_restores(
    repo: S3Repo, snapshot: str, source: Path, digest: Digest, target: Path
) -> None:
    """``snapshot`` restores (over a direct connection) to a tree with ``digest``."""
    repo.direct("restore", snapshot, "--target", str(target)).check()
    assert tree_digest(target / str(source).lstrip("/")) == digest


def test_a_backup_survives_connections_dropped_mid_upload(s3_repo: S3Repo, tmp_path: Path) -> None:
    source = make_data_tree(tmp_path / "src", seed=5, mib=30)
    faults = Faults(cut_after_bytes=1024 * 1024, cut_connections=5)
    with FaultProxy(s3_repo.moto_port, faults) as proxy:
        result = s3_repo.run(proxy.endpoint, "backup", str(source), env=retries(10)).check()
        counters = proxy.counters()
    assert counters.cut == 5  # every planned fault was injected...
    assert counters.bytes_up > 30 * 1024 * 1024  # ...and the data went through after all
    assert result.stderr.count("failed (attempt") >= 5  # the retry wrapper saw each one
    assert "storage: save data/" in result.stderr

    (snapshot,) = s3_repo.snapshot_ids()
    s3_repo.direct("check", "--read-data").check()
    assert_restores(s3_repo, snapshot, source, tree_digest(source), tmp_path / "restored")


def test_a_permanent_outage_fails_the_backup_clearly(s3_repo: S3Repo, tmp_path: Path) -> None:
    source = make_data_tree(tmp_path / "src", seed=6, mib=2)
    with FaultProxy(s3_repo.moto_port, Faults(outage=True)) as proxy:
        result = s3_repo.run(proxy.endpoint, "backup", str(source), env=retries(3))
        counters = proxy.counters()
    assert result.returncode == 15, result.stderr
    assert "error:" in result.stderr and "hint: gave up after 3 attempts" in result.stderr
    assert "Traceback" not in result.stderr
    assert counters.reset >= 3 and counters.bytes_up == 0
    assert s3_repo.snapshot_ids() == []
    s3_repo.direct("check", "--read-data").check()


def test_an_outage_mid_backup_leaves_no_snapshot_naming_missing_data(
    s3_repo: S3Repo, tmp_path: Path
) -> None:
    source = make_data_tree(tmp_path / "src", seed=7, mib=8)
    s3_repo.direct("backup", str(source)).check()
    (first,) = s3_repo.snapshot_ids()
    first_digest = tree_digest(source)
    make_data_tree(source / "more", seed=8, mib=16)
    with FaultProxy(s3_repo.moto_port, Faults(outage_after_bytes=6 * 1024 * 1024)) as proxy:
        result = s3_repo.run(proxy.endpoint, "backup", str(source), env=retries(3))
        counters = proxy.counters()
    assert result.returncode == 15, result.stderr
    assert "hint: gave up after 3 attempts" in result.stderr
    assert "Traceback" not in result.stderr
    assert counters.cut >= 1  # the outage began in the middle of an upload
    assert s3_repo.snapshot_ids() == [first]
    s3_repo.direct("check", "--read-data").check()
    assert_restores(s3_repo, first, source, first_digest, tmp_path / "restored")
