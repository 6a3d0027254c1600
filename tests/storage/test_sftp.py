"""The SFTP backend against a real OpenSSH sshd: the contract, and what only SFTP has.

Host keys and logins, dropped and hung connections, a full disk on the server,
URL parsing, and a whole drkit round trip through the CLI over SFTP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from drkit.errors import (
    ObjectNotFound,
    StorageError,
    StorageFull,
    TransientStorageError,
    UsageError,
)
from drkit.storage.base import Backend, FileKind
from drkit.storage.registry import open_backend
from drkit.storage.retry import RetryBackend
from drkit.storage.sftp import SftpBackend, SftpConfig
from drkit.storage.sftp import ops as sftp_module
from tests.conftest import Runner, make_sample_tree, mounted_tmpfs, tree_digest
from tests.fixtures.sshd import SshServer, write_ed25519_key
from tests.storage.contract import BackendContract, data_of, listing, name_of

MiB = 1024 * 1024
_opened: list[SftpBackend] = []


def open_sftp(url: str) -> SftpBackend:
    """A backend that the test's teardown closes."""
    backend = SftpBackend(SftpConfig.parse(url))
    _opened.append(backend)
    return backend


@pytest.fixture(autouse=True)
def _close_backends() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


class TestSftpBackend(BackendContract):
    @pytest.fixture
    def backend(self, sshd: SshServer, tmp_path: Path) -> Backend:
        backend = open_sftp(sshd.url(tmp_path / "repo"))
        backend.create()
        return backend

    def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, SftpBackend)
        other = SftpBackend(backend.config)  # a second object, its own connection
        _opened.append(other)
        return other


# -- layout and URLs -------------------------------------------------------------------


def test_layout_matches_the_local_backend(sshd: SshServer, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    backend = open_sftp(sshd.url(root))
    backend.create()
    assert sorted(p.name for p in root.iterdir()) == [
        "data",
        "index",
        "keys",
        "locks",
        "snapshots",
        "wal",
    ]
    assert len(list((root / "data").iterdir())) == 256
    pack = "ab" + "0" * 62
    backend.save(FileKind.PACK, pack, [b"pack"])
    backend.save(FileKind.CONFIG, "config", [b"config"])
    assert (root / "data" / "ab" / pack).read_bytes() == b"pack"
    assert (root / "config").read_bytes() == b"config"
    assert not list(root.rglob(".tmp-*")), "a temporary file was left behind"


def test_folders_are_made_on_demand(sshd: SshServer, tmp_path: Path) -> None:
    """Objects can be saved before create() or after a folder was deleted (mkdir -p)."""
    root = tmp_path / "deep" / "down" / "repo"
    backend = open_sftp(sshd.url(root))
    name = "7f" + "1" * 62
    backend.save(FileKind.PACK, name, [b"early"])
    assert (root / "data" / "7f" / name).read_bytes() == b"early"
    backend.save(FileKind.SNAPSHOT, name, [b"snap"])
    assert listing(backend, FileKind.SNAPSHOT) == {name: 4}


def test_remove_staging_removes_left_over_temporary_files(
    sshd: SshServer,
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    backend = open_sftp(sshd.url(root))
    backend.create()
    pack = "ab" + "2" * 62
    backend.save(FileKind.PACK, pack, [b"complete"])
    leftovers = [root / "data" / "ab" / f".tmp-{pack}-dead", root / "index" / ".tmp-x-beef"]
    for path in leftovers:
        path.write_bytes(b"half")
    assert listing(backend, FileKind.PACK) == {pack: 8}
    assert listing(backend, FileKind.INDEX) == {}
    assert backend.remove_staging() == 2
    assert not any(path.exists() for path in leftovers)
    assert backend.load(FileKind.PACK, pack) == b"complete"


def test_servers_without_openssh_extensions(
    sshd: SshServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without posix-rename and fsync: plain rename, a lock removed first, no fsync retried."""
    sent: list[str] = []
    original = sftp_module._extended

    def no_extensions(sftp: paramiko.SFTPClient, request: str, *args: object) -> Any:
        sent.append(request)
        if request == "fsync@openssh.com":
            raise OSError("Operation unsupported")
        return original(sftp, request, *args)

    def no_posix_rename(self: paramiko.SFTPClient, old: str, new: str) -> None:
        raise OSError("Operation unsupported")

    monkeypatch.setattr(sftp_module, "_extended", no_extensions)
    monkeypatch.setattr(paramiko.SFTPClient, "posix_rename", no_posix_rename)
    root = tmp_path / "repo"
    backend = open_sftp(sshd.url(root))
    backend.create()
    lock = name_of(b"lock")
    backend.save(FileKind.LOCK, lock, [b"first"])
    backend.save(FileKind.LOCK, lock, [b"second"])
    assert backend.load(FileKind.LOCK, lock) == b"second"
    data = data_of(100_000, seed=8)
    backend.save(FileKind.PACK, name_of(data), [data])
    backend.save(FileKind.PACK, name_of(data), [data])  # the target exists: kept
    assert backend.load(FileKind.PACK, name_of(data)) == data
    assert listing(backend, FileKind.PACK) == {name_of(data): len(data)}
    assert not list(root.rglob(".tmp-*"))
    assert sent == ["fsync@openssh.com"], "an unsupported fsync is asked once, then no more"


def test_registry_opens_sftp_urls_with_retries(sshd: SshServer, tmp_path: Path) -> None:
    backend = open_backend(sshd.url(tmp_path / "repo", timeout="7"))
    try:
        assert isinstance(backend, RetryBackend)
        inner = backend.inner
        assert isinstance(inner, SftpBackend)
        assert inner.config.port == sshd.port and inner.config.timeout == 7.0
        assert backend.location == f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{tmp_path}/repo"
        backend.create()
        backend.save(FileKind.KEY, name_of(b"k"), [b"k"])
        assert backend.load(FileKind.KEY, name_of(b"k")) == b"k"
    finally:
        backend.close()


def test_parse_a_full_url() -> None:
    config = SftpConfig.parse(
        "sftp://backup@nas.example:2222/srv/drkit%20repo/?key=~/.ssh/id_ed25519"
        "&known_hosts=/etc/kh&timeout=2.5"
    )
    assert config.user == "backup"
    assert config.host == "nas.example"
    assert config.port == 2222
    assert config.path == "/srv/drkit repo"
    assert config.key == Path("~/.ssh/id_ed25519").expanduser()
    assert config.known_hosts == Path("/etc/kh")
    assert config.timeout == 2.5
    assert config.location == "sftp://backup@nas.example:2222/srv/drkit repo"
    assert config.known_hosts_name == "[nas.example]:2222"


def test_parse_defaults() -> None:
    config = SftpConfig.parse("sftp://nas/srv/repo")
    assert config.port == 22 and config.known_hosts_name == "nas"
    assert config.user  # the local user
    assert config.key is None
    assert config.known_hosts == Path("~/.ssh/known_hosts").expanduser()
    assert config.timeout == 30.0
    with pytest.raises(AttributeError):
        config.port = 23  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    "url",
    [
        "sftp://nas",  # no path
        "sftp://nas/",  # the server's root is no repository folder
        "sftp:///srv/repo",  # no host
        "sftp://u:secret@nas/srv/repo",  # passwords are refused
        "sftp://nas:99999/srv/repo",
        "sftp://nas:ssh/srv/repo",
        "sftp://nas/srv/repo?timeout=0",
        "sftp://nas/srv/repo?timeout=soon",
        "sftp://nas/srv/repo?timeout=nan",
        "sftp://nas/srv/repo?keyfile=/k",  # unknown option
        "sftp://nas/srv/repo?key=/a&key=/b",  # repeated option
        "sftp://nas/srv/repo?key=",
        "sftp://nas/srv/repo#frag",
        "s3://nas/srv/repo",
    ],
)
def test_bad_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError) as info:
        SftpConfig.parse(url)
    assert info.value.hint, "a bad URL says how to write a good one"


# -- host keys and logins --------------------------------------------------------------


def test_unknown_host_key_is_refused_with_a_hint(sshd: SshServer, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    backend = open_sftp(sshd.url(tmp_path / "repo", known_hosts=known_hosts))
    with pytest.raises(StorageError) as info:
        backend.create()
    error = info.value
    assert not isinstance(error, TransientStorageError), "an unknown host must not be retried"
    assert f"[127.0.0.1]:{sshd.port}" in error.message and "ED25519" in error.message.upper()
    command = f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {known_hosts}"
    assert command in error.hint
    assert not (tmp_path / "repo").exists(), "nothing was written to an unverified server"
    assert known_hosts.read_text() == "", "the host key was not added on the fly"
    # following the hint works
    subprocess.run(["sh", "-c", command], check=True, capture_output=True, timeout=30)
    open_sftp(sshd.url(tmp_path / "repo", known_hosts=known_hosts)).create()
    assert (tmp_path / "repo" / "keys").is_dir()


def test_missing_known_hosts_file_is_an_unknown_host(sshd: SshServer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "known_hosts"
    backend = open_sftp(sshd.url(tmp_path / "repo", known_hosts=missing))
    with pytest.raises(StorageError, match="is not in") as info:
        backend.stat(FileKind.CONFIG, "config")
    assert "ssh-keyscan" in info.value.hint and str(missing) in info.value.hint


def test_changed_host_key_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    impostor = write_ed25519_key(tmp_path / "impostor")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {impostor}\n")
    backend = open_sftp(sshd.url(tmp_path / "repo", known_hosts=known_hosts))
    with pytest.raises(StorageError, match="does not match") as info:
        backend.create()
    assert not isinstance(info.value, TransientStorageError)
    assert "ssh-keygen -R" in info.value.hint
    assert not (tmp_path / "repo").exists()


def test_wrong_key_is_refused_with_a_hint(sshd: SshServer, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger_ed25519"
    write_ed25519_key(stranger)
    backend = open_sftp(sshd.url(tmp_path / "repo", key=stranger))
    with pytest.raises(StorageError) as info:
        backend.create()
    error = info.value
    assert not isinstance(error, TransientStorageError), "a refused login must not be retried"
    assert "cannot log in" in error.message and sshd.user in error.message
    assert str(stranger) in error.hint and "authorized_keys" in error.hint
    assert not (tmp_path / "repo").exists()


def test_missing_key_file_is_named(sshd: SshServer, tmp_path: Path) -> None:
    backend = open_sftp(sshd.url(tmp_path / "repo", key=tmp_path / "no-such-key"))
    with pytest.raises(StorageError, match="does not exist") as info:
        backend.create()
    assert "no-such-key" in info.value.message and "key=" in info.value.hint


def test_nobody_listening_is_transient(sshd: SshServer, tmp_path: Path) -> None:
    url = sshd.url(tmp_path / "repo", timeout="5").replace(f":{sshd.port}/", ":1/")
    with pytest.raises(TransientStorageError, match="cannot connect"):
        open_sftp(url).create()


def test_silent_server_fails_every_waiting_thread_at_once(
    sshd: SshServer,
    tmp_path: Path,
) -> None:
    """A server that accepts but never speaks: one timeout for all waiting threads."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        url = sshd.url(tmp_path / "repo", timeout="1").replace(f":{sshd.port}/", f":{port}/")
        backend = open_sftp(url)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                backend.stat(FileKind.CONFIG, "config")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(6)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
    assert len(errors) == 6 and all(isinstance(e, TransientStorageError) for e in errors), errors
    assert elapsed < 4, f"threads tried to connect one after another ({elapsed:.1f} s)"


def test_missing_objects_and_denied_paths(sshd: SshServer, tmp_path: Path) -> None:
    backend = open_sftp(sshd.url(tmp_path / "repo"))
    backend.create()
    with pytest.raises(ObjectNotFound, match="does not exist"):
        backend.load(FileKind.INDEX, name_of(b"nothing"), 3, 4)
    blocker = tmp_path / "file-not-folder"
    blocker.write_bytes(b"")
    broken = open_sftp(sshd.url(blocker / "repo"))
    with pytest.raises(StorageError) as info:
        broken.save(FileKind.KEY, name_of(b"k"), [b"k"])
    assert not isinstance(info.value, TransientStorageError | ObjectNotFound)


# -- dropped and hung connections ------------------------------------------------------


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_connection_dropped_mid_call_is_transient_then_reconnects(
    sshd: SshServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = open_sftp(sshd.url(tmp_path / "repo"))
    backend.create()
    data = data_of(300_000, seed=5)
    name = name_of(data)
    backend.save(FileKind.PACK, name, [data])
    original = paramiko.SFTPClient.open

    def open_then_drop(self: paramiko.SFTPClient, *args: Any, **kwargs: Any) -> Any:
        channel = self.get_channel()
        assert channel is not None
        channel.get_transport().close()  # the connection dies under the call
        return original(self, *args, **kwargs)

    monkeypatch.setattr(paramiko.SFTPClient, "open", open_then_drop)
    with pytest.raises(TransientStorageError, match="connection failed"):
        backend.load(FileKind.PACK, name)
    assert not backend.is_connected()
    monkeypatch.undo()
    assert backend.load(FileKind.PACK, name) == data  # the next call reconnects
    assert backend.is_connected()


def test_killed_server_session_reconnects_on_the_next_call(
    sshd: SshServer,
    tmp_path: Path,
) -> None:
    backend = open_sftp(sshd.url(tmp_path / "repo"))
    backend.create()
    backend.save(FileKind.SNAPSHOT, name_of(b"s"), [b"snapshot"])
    before = set(sshd.signal_sessions(signal.SIGKILL))
    assert before, "sshd had no session process to kill"
    wait_until(lambda: not backend.is_connected(), "the client notices the dropped connection")
    assert backend.load(FileKind.SNAPSHOT, name_of(b"s")) == b"snapshot"
    assert backend.is_connected()
    assert set(sshd.session_pids()).isdisjoint(before), "a new session serves the call"


def test_hung_server_times_out_as_transient(sshd: SshServer, tmp_path: Path) -> None:
    backend = open_sftp(sshd.url(tmp_path / "repo", timeout="1"))
    backend.create()
    name = name_of(b"x")
    backend.save(FileKind.INDEX, name, [b"x"])
    stopped = sshd.signal_sessions(signal.SIGSTOP)
    assert stopped
    try:
        started = time.monotonic()
        with pytest.raises(TransientStorageError):
            backend.load(FileKind.INDEX, name)
        assert time.monotonic() - started < 10
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert backend.load(FileKind.INDEX, name) == b"x"  # a new connection


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_concurrent_calls_survive_a_dropped_connection(
    sshd: SshServer,
    tmp_path: Path,
) -> None:
    """Threads racing a drop see Transient errors or success, never a wrong answer or hang."""
    backend = open_sftp(sshd.url(tmp_path / "repo"))
    backend.create()
    objects = {name_of(data_of(20_000, seed=i)): data_of(20_000, seed=i) for i in range(8)}
    for name, data in objects.items():
        backend.save(FileKind.INDEX, name, [data])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            for name, data in objects.items():
                try:
                    assert backend.load(FileKind.INDEX, name) == data
                except TransientStorageError:
                    pass
                except BaseException as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            time.sleep(0.2)
            sshd.signal_sessions(signal.SIGKILL)
    finally:
        time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a reader hung"
    assert errors == []
    assert {n: backend.load(FileKind.INDEX, n) for n in objects} == objects


# -- a full disk on the server ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB tmpfs: writing past it fails with ENOSPC on the server."""
    with mounted_tmpfs(tmp_path / "small", "4m") as mnt:
        yield mnt


def test_full_disk_is_storage_full_and_leaves_nothing(
    sshd: SshServer,
    small_disk: Path,
    tmp_path: Path,
) -> None:
    root = small_disk / "repo"
    backend = open_sftp(sshd.url(root))
    backend.create()
    small = data_of(1000, seed=1)
    backend.save(FileKind.PACK, name_of(small), [small])
    big = data_of(6 * MiB, seed=2)
    with pytest.raises(StorageFull, match="full"):
        backend.save(FileKind.PACK, name_of(big), [big])
    staged = tmp_path / "staged"
    staged.write_bytes(big)
    with pytest.raises(StorageFull):
        backend.save_file(FileKind.PACK, name_of(big, "file"), staged)
    assert staged.exists(), "a failed upload keeps the staged file for a retry"
    assert not list(root.rglob(".tmp-*")), "a partial object was left behind"
    assert listing(backend, FileKind.PACK) == {name_of(small): 1000}
    subprocess.run(["mount", "-o", "remount,size=32m", str(small_disk)], check=True)
    backend.save(FileKind.PACK, name_of(big), [big])
    assert backend.load(FileKind.PACK, name_of(big), 5 * MiB, 10) == big[5 * MiB : 5 * MiB + 10]


# -- drkit over SFTP, end to end -------------------------------------------------------


def test_cli_round_trip_over_sftp(
    sshd: SshServer,
    drkit: Runner,
    tmp_path: Path,
) -> None:
    url = sshd.url(tmp_path / "remote" / "repo")
    source = make_sample_tree(tmp_path / "src")
    drkit("init", repo=url).check()
    drkit("backup", str(source), repo=url).check()
    out = tmp_path / "out"
    drkit("restore", "latest", "--target", str(out), repo=url).check()
    assert tree_digest(out / str(source).lstrip("/")) == tree_digest(source)
    drkit("check", "--read-data", repo=url).check()
    remote = tmp_path / "remote" / "repo"
    assert (remote / "config").is_file() and list((remote / "snapshots").iterdir())
    assert list((remote / "data").rglob("[0-9a-f]" * 64)), "packs were stored over SFTP"
    assert not list(remote.rglob(".tmp-*"))
    again = drkit("init", repo=url)
    assert again.returncode != 0 and "already exists" in again.stderr
