"""The S3 backend against moto's S3 server: the contract, S3 specifics, a CLI round trip."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drkit.errors import (
    ObjectNotFound,
    RepositoryNotFound,
    StorageError,
    StorageFull,
    TransientStorageError,
    UsageError,
)
from drkit.repository.repo import Repository
from drkit.storage.base import Backend, FileKind
from drkit.storage.registry import open_backend
from drkit.storage.s3 import S3Backend, S3Config, make_client
from tests.conftest import Runner, make_sample_tree, tree_digest
from tests.fixtures.s3 import FAKE_AWS_ENV, free_port, moto_server, s3_bucket, s3_endpoint
from tests.storage.contract import BackendContract, MiB, data_of, listing, name_of

__all__ = ["moto_server", "s3_bucket", "s3_endpoint"]  # fixtures used by name


def s3_url(endpoint: str, bucket: str, prefix: str = "repo", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"endpoint": endpoint, **params}.items())
    return f"s3://{bucket}/{prefix}?{query}"


def raw_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def raw_keys(endpoint: str, bucket: str) -> set[str]:
    rsp = raw_client(endpoint).list_objects_v2(Bucket=bucket)
    return {obj["Key"] for obj in rsp.get("Contents", [])}


@pytest.fixture
def make_backend(s3_endpoint: str, s3_bucket: str) -> Iterator[Any]:
    """Build S3 backends on the test's bucket (prefix ``repo`` unless told)."""
    made: list[S3Backend] = []

    def make(prefix: str = "repo", bucket: str = s3_bucket, **params: str) -> S3Backend:
        backend = S3Backend.from_url(s3_url(s3_endpoint, bucket, prefix, **params))
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


class TestS3Backend(BackendContract):
    @pytest.fixture
    def backend(self, make_backend: Any) -> Backend:
        backend: S3Backend = make_backend()
        backend.create()
        return backend

    def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, S3Backend)
        return S3Backend(backend.config)


# -- layout and S3 behaviour -------------------------------------------------
def test_keys_follow_the_local_layout(make_backend: Any, s3_endpoint: str) -> None:
    backend = make_backend("team/host1")
    backend.create()
    pack = "ab" + "1" * 62
    backend.save(FileKind.CONFIG, "config", [b"c"])
    backend.save(FileKind.KEY, "k1", [b"k"])
    backend.save(FileKind.LOCK, "l1", [b"l"])
    backend.save(FileKind.SNAPSHOT, "s1", [b"s"])
    backend.save(FileKind.INDEX, "i1", [b"i"])
    backend.save(FileKind.PACK, pack, [b"p"])
    assert raw_keys(s3_endpoint, backend.bucket) == {
        "team/host1/config",
        "team/host1/keys/k1",
        "team/host1/locks/l1",
        "team/host1/snapshots/s1",
        "team/host1/index/i1",
        f"team/host1/data/ab/{pack}",
    }


def test_prefixes_keep_repositories_apart(make_backend: Any, s3_endpoint: str) -> None:
    first, second, root = make_backend("repo"), make_backend("repo2"), make_backend("")
    first.create()
    first.save(FileKind.SNAPSHOT, "one", [b"1"])
    second.save(FileKind.SNAPSHOT, "two", [b"22"])
    root.save(FileKind.SNAPSHOT, "three", [b"333"])
    root.save(FileKind.CONFIG, "config", [b"root config"])
    assert listing(first, FileKind.SNAPSHOT) == {"one": 1}
    assert listing(second, FileKind.SNAPSHOT) == {"two": 2}
    assert listing(root, FileKind.SNAPSHOT) == {"three": 3}
    assert listing(first, FileKind.CONFIG) == {}
    assert raw_keys(s3_endpoint, first.bucket) == {
        "repo/snapshots/one",
        "repo2/snapshots/two",
        "snapshots/three",
        "config",
    }


def test_foreign_keys_under_the_prefix_are_not_listed(make_backend: Any, s3_endpoint: str) -> None:
    backend = make_backend()
    backend.create()
    pack = "cd" + "2" * 62
    backend.save(FileKind.PACK, pack, [b"pack"])
    client = raw_client(s3_endpoint)
    for key in (
        "repo/data/",  # a console "folder"
        "repo/data/zz/" + "3" * 64,  # a pack in the wrong folder
        "repo/data/" + "4" * 64,  # a pack outside any folder
        "repo/keys/sub/deeper",
        "repo/keys/.tmp-half",
        "repo/keysafe",
    ):
        client.put_object(Bucket=backend.bucket, Key=key, Body=b"x")
    assert listing(backend, FileKind.PACK) == {pack: 4}
    assert listing(backend, FileKind.KEY) == {}


def test_create_makes_the_bucket_and_may_run_twice(make_backend: Any, s3_endpoint: str) -> None:
    backend = make_backend()
    client = raw_client(s3_endpoint)
    assert backend.bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}
    backend.create()
    assert backend.bucket in {b["Name"] for b in client.list_buckets()["Buckets"]}
    backend.create()  # no config yet: an interrupted init can be run again
    make_backend("other").create()  # another repository in the same bucket
    assert listing(backend, FileKind.KEY) == {}


def test_create_in_another_region_sets_the_location(make_backend: Any, s3_endpoint: str) -> None:
    backend = make_backend(region="eu-west-1")
    backend.create()
    location = raw_client(s3_endpoint).get_bucket_location(Bucket=backend.bucket)
    assert location["LocationConstraint"] == "eu-west-1"


def test_large_save_file_goes_multipart(make_backend: Any, tmp_path: Path) -> None:
    backend = make_backend()
    backend.create()
    big, small = data_of(20 * MiB + 5, seed=1), data_of(MiB, seed=2)
    for data in (big, small):
        staged = tmp_path / name_of(data)
        staged.write_bytes(data)
        backend.save_file(FileKind.PACK, name_of(data), staged)
        assert not staged.exists()
    client = backend.client
    big_head = client.head_object(
        Bucket=backend.bucket, Key=backend.config.key(FileKind.PACK, name_of(big))
    )
    small_head = client.head_object(
        Bucket=backend.bucket, Key=backend.config.key(FileKind.PACK, name_of(small))
    )
    assert big_head["ETag"].strip('"').endswith("-3")  # 8 + 8 + 4 MiB parts
    assert "-" not in small_head["ETag"]
    assert (
        backend.load(FileKind.PACK, name_of(big), 16 * MiB - 2, 4)
        == big[16 * MiB - 2 : 16 * MiB + 2]
    )


def test_remove_staging_aborts_unfinished_uploads(make_backend: Any, s3_endpoint: str) -> None:
    backend, neighbour = make_backend("repo"), make_backend("repo2")
    backend.create()
    client = raw_client(s3_endpoint)
    for key in ("repo/data/ab/" + "a" * 64, "repo/index/x", "repo2/data/cd/" + "c" * 64):
        upload = client.create_multipart_upload(Bucket=backend.bucket, Key=key)
        client.upload_part(
            Bucket=backend.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x"
        )
    assert backend.remove_staging() == 2
    left = client.list_multipart_uploads(Bucket=backend.bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == ["repo2/data/cd/" + "c" * 64]
    assert backend.remove_staging() == 0
    assert neighbour.remove_staging() == 1


# -- a missing bucket is no repository ---------------------------------------
def test_missing_bucket_reads_as_no_repository(make_backend: Any) -> None:
    backend = make_backend(bucket="drkit-no-such-bucket")
    assert backend.exists(FileKind.CONFIG, "config") is False
    with pytest.raises(ObjectNotFound):
        backend.stat(FileKind.CONFIG, "config")
    with pytest.raises(ObjectNotFound, match="bucket drkit-no-such-bucket does not exist"):
        backend.load(FileKind.CONFIG, "config")
    with pytest.raises(ObjectNotFound, match="does not exist"):
        list(backend.list(FileKind.SNAPSHOT))
    assert list(backend.list(FileKind.CONFIG)) == []
    backend.remove(FileKind.LOCK, "gone")  # idempotent even without a bucket
    with pytest.raises(RepositoryNotFound):
        Repository.open(backend, "secret")


def test_cli_on_a_missing_bucket_says_no_repository(s3_endpoint: str, drkit: Runner) -> None:
    result = drkit("snapshots", repo=s3_url(s3_endpoint, "drkit-no-such-bucket"), env=FAKE_AWS_ENV)
    assert result.returncode == 10, result.stderr
    assert "no drkit repository at s3://drkit-no-such-bucket/repo" in result.stderr


# -- URLs ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket", S3Config("bucket")),
        ("s3://bucket/", S3Config("bucket")),
        ("s3://my.bucket-1/a/b/", S3Config("my.bucket-1", "a/b")),
        (
            "s3://bkt/p?endpoint=http://127.0.0.1:9000",
            S3Config("bkt", "p", endpoint="http://127.0.0.1:9000", path_style=True),
        ),
        (
            "s3://bkt/p?endpoint=https://minio.example:9000/&path_style=false&region=eu-central-1",
            S3Config(
                "bkt",
                "p",
                endpoint="https://minio.example:9000",
                region="eu-central-1",
                path_style=False,
            ),
        ),
        ("s3://bkt/p?path_style=1", S3Config("bkt", "p", path_style=True)),
        (
            "s3://bkt?access_key_env=MY_KEY&secret_key_env=MY_SECRET",
            S3Config("bkt", access_key_env="MY_KEY", secret_key_env="MY_SECRET"),
        ),
    ],
)
def test_url_parsing(url: str, expected: S3Config) -> None:
    assert S3Config.parse(url) == expected


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("s3://", "names no bucket"),
        ("s3:///prefix", "names no bucket"),
        ("s3://ab/p", "is not a bucket name"),
        ("s3://bad_bucket_/p", "is not a bucket name"),
        ("s3://host:9000/bucket", "is not a bucket name"),
        ("s3://key:secret@bucket/p", "contains credentials"),
        ("s3://bucket/a//b", "empty, '.' or '..' segment"),
        ("s3://bucket/a/../b", "empty, '.' or '..' segment"),
        ("s3://bucket/p?colour=blue", "unknown parameter 'colour'"),
        ("s3://bucket/p?region=a&region=b", "given twice"),
        ("s3://bucket/p?endpoint=127.0.0.1:9000", "is not an http:// or https:// URL"),
        ("s3://bucket/p?endpoint=ftp://host", "is not an http:// or https:// URL"),
        ("s3://bucket/p?endpoint=http://host:99999", "has a bad port"),
        ("s3://bucket/p?endpoint=http://host/path", "must be only scheme://host[:port]"),
        ("s3://bucket/p?path_style=maybe", "neither true nor false"),
        ("s3://bucket/p?region=eu west", "is not a region name"),
        ("s3://bucket/p?access_key_env=K", "go together"),
        ("s3://bucket/p?access_key_env=1K&secret_key_env=S", "not an environment variable name"),
        ("s3://bucket/p?session_token_env=T", "needs access_key_env"),
        ("s3://bucket/p#frag", "has a #fragment"),
    ],
)
def test_bad_urls_are_usage_errors(url: str, why: str) -> None:
    with pytest.raises(UsageError, match=r"bad S3 repository URL|contains credentials") as info:
        S3Config.parse(url)
    assert why in info.value.message
    assert info.value.exit_code == 2 and info.value.hint


def test_registry_opens_s3_urls(s3_endpoint: str, s3_bucket: str) -> None:
    backend = open_backend(s3_url(s3_endpoint, s3_bucket, "x/y"))
    try:
        backend.create()
        backend.save(FileKind.SNAPSHOT, "snap", [b"via the registry"])
        assert backend.load(FileKind.SNAPSHOT, "snap") == b"via the registry"
        assert backend.location == f"s3://{s3_bucket}/x/y at {s3_endpoint}"
        assert raw_keys(s3_endpoint, s3_bucket) == {"x/y/snapshots/snap"}
    finally:
        backend.close()
    with pytest.raises(UsageError, match="unknown parameter"):
        open_backend("s3://bucket/p?nope=1")


# -- credentials ---------------------------------------------------------------
def _signed_key_ids(backend: S3Backend) -> list[str]:
    seen: list[str] = []

    def grab(request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        seen.append(auth.split("Credential=", 1)[1].split("/", 1)[0])

    backend.client.meta.events.register("before-send.s3.*", grab)
    return seen


def test_credentials_from_named_variables(
    make_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_S3_KEY", "team-key-id")
    monkeypatch.setenv("TEAM_S3_SECRET", "team-secret")
    named = make_backend(access_key_env="TEAM_S3_KEY", secret_key_env="TEAM_S3_SECRET")
    default = make_backend()
    named_ids, default_ids = _signed_key_ids(named), _signed_key_ids(default)
    named.create()
    assert default.exists(FileKind.CONFIG, "config") is False
    assert named_ids and set(named_ids) == {"team-key-id"}
    assert default_ids and set(default_ids) == {FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"]}


def test_a_named_variable_that_is_not_set_is_a_usage_error(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEAM_S3_SECRET", raising=False)
    monkeypatch.setenv("TEAM_S3_KEY", "k")
    url = s3_url(
        s3_endpoint, "bucket", access_key_env="TEAM_S3_KEY", secret_key_env="TEAM_S3_SECRET"
    )
    with pytest.raises(UsageError, match="TEAM_S3_SECRET"):
        S3Backend.from_url(url)


def test_no_credentials_at_all_is_a_storage_error_with_a_hint(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    backend = S3Backend.from_url(s3_url(s3_endpoint, "bucket"))
    with pytest.raises(StorageError) as info:
        backend.stat(FileKind.CONFIG, "config")
    assert type(info.value) is StorageError
    assert "AWS_ACCESS_KEY_ID" in info.value.hint


# -- error translation ---------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("NoSuchKey", 404, ObjectNotFound),
        ("NoSuchBucket", 404, ObjectNotFound),
        ("SlowDown", 503, TransientStorageError),
        ("RequestTimeout", 400, TransientStorageError),
        ("InternalError", 500, TransientStorageError),
        ("BadGateway", 502, TransientStorageError),
        ("TooManyRequests", 429, TransientStorageError),
        ("AccessDenied", 403, StorageError),
        ("InvalidAccessKeyId", 403, StorageError),
        ("SignatureDoesNotMatch", 403, StorageError),
        ("XMinioStorageFull", 507, StorageFull),
        ("InvalidArgument", 400, StorageError),
    ],
)
def test_service_errors_are_translated(
    code: str, status: int, expected: type[StorageError], s3_endpoint: str
) -> None:
    backend = S3Backend.from_url(s3_url(s3_endpoint, "bucket"))
    with Stubber(backend.client) as stub:
        stub.add_client_error("get_object", code, "the message", status)
        with pytest.raises(StorageError) as info:
            backend.load(FileKind.SNAPSHOT, "snap")
    assert type(info.value) is expected
    assert "snapshots/snap" in info.value.message
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        assert "credentials" in info.value.hint


def test_connection_refused_is_transient_and_tried_once(s3_endpoint: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    backend = S3Backend.from_url(s3_url(dead, "bucket"))
    attempts: list[str] = []
    backend.client.meta.events.register("before-send.s3.*", lambda **kw: attempts.append("x"))
    with pytest.raises(TransientStorageError, match="did not answer"):
        backend.save(FileKind.LOCK, "l", [b"lock"])
    with pytest.raises(TransientStorageError):
        list(backend.list(FileKind.SNAPSHOT))
    assert len(attempts) == 2  # botocore's own retries are off


class RudeServer:
    """An endpoint that reads a request, sends ``answer`` (maybe nothing), then resets."""

    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):  # the client may hang up first
                conn.settimeout(5)
                conn.recv(65536)
                conn.sendall(self.answer)
                linger_zero = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def rude_server() -> Iterator[RudeServer]:
    server = RudeServer()
    yield server
    server.close()


def test_connection_reset_is_transient(rude_server: RudeServer, s3_endpoint: str) -> None:
    backend = S3Backend.from_url(s3_url(rude_server.endpoint, "bucket"))
    with pytest.raises(TransientStorageError, match="did not answer reliably"):
        backend.load(FileKind.INDEX, "i")
    with pytest.raises(TransientStorageError):
        backend.stat(FileKind.INDEX, "i")
    with pytest.raises(TransientStorageError):
        backend.save(FileKind.INDEX, "i", [b"index"])


def test_a_body_cut_short_is_transient(s3_endpoint: str) -> None:
    server = RudeServer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: binary/octet-stream\r\n\r\n"
        + b"x" * 10
    )
    try:
        backend = S3Backend.from_url(s3_url(server.endpoint, "bucket"))
        with pytest.raises(TransientStorageError, match="did not answer reliably"):
            backend.load(FileKind.PACK, "ab" + "0" * 62)
    finally:
        server.close()


def test_client_has_explicit_timeouts_and_no_retries() -> None:
    client = make_client(S3Config.parse("s3://bucket/p?endpoint=http://127.0.0.1:1"), env={})
    assert client.meta.config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (10.0, 60.0)
    assert client.meta.config.s3 == {"addressing_style": "path"}


# -- the whole tool over S3 ----------------------------------------------------
def test_cli_round_trip_over_s3(
    s3_endpoint: str, drkit: Runner, s3_bucket: str, tmp_path: Path
) -> None:
    """init, backup, restore, check --read-data through the CLI (s3_endpoint first: the
    runner copies the environment it cleaned)."""
    url = s3_url(s3_endpoint, s3_bucket, "hosts/web1")
    source = make_sample_tree(tmp_path / "src")
    restored = tmp_path / "restored"
    drkit("init", repo=url, env=FAKE_AWS_ENV).check()
    drkit("backup", str(source), repo=url, env=FAKE_AWS_ENV).check()
    drkit("restore", "latest", "--target", str(restored), repo=url, env=FAKE_AWS_ENV).check()
    assert tree_digest(restored / str(source).lstrip("/")) == tree_digest(source)
    check = drkit("check", "--read-data", repo=url, env=FAKE_AWS_ENV).check()
    assert check.returncode == 0
    keys = raw_keys(s3_endpoint, s3_bucket)
    assert "hosts/web1/config" in keys
    assert any(k.startswith("hosts/web1/data/") for k in keys)
    assert any(k.startswith("hosts/web1/snapshots/") for k in keys)
    again = drkit("init", repo=url, env=FAKE_AWS_ENV)
    assert again.returncode == 1 and "already exists" in again.stderr
