"""S3 backend: a repository in a bucket of Amazon S3 or any S3-compatible store.

URL form::

    s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path_style=true|false
                        &access_key_env=VAR&secret_key_env=VAR&session_token_env=VAR]

* ``endpoint``: a custom endpoint (``http://127.0.0.1:9000`` for MinIO or
  moto); without it the AWS endpoint of the region is used.
* ``region``: the signing region; default the AWS environment's
  (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile), else ``us-east-1``.
* ``path_style``: ``https://host/BUCKET/KEY`` addressing instead of
  ``https://BUCKET.host/KEY``; default true with an ``endpoint``, otherwise
  botocore's automatic choice.
* Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, instance
  roles), or from the environment variables named by ``access_key_env`` and
  ``secret_key_env`` (and ``session_token_env``). Secrets never go in the URL.

Keys have the local layout under PREFIX::

    PREFIX/config  PREFIX/keys/ID  PREFIX/locks/ID  PREFIX/snapshots/ID
    PREFIX/index/ID  PREFIX/data/XX/ID

S3 writes are atomic (a PUT, or a multipart upload, shows either the whole
object or nothing), so no temporary objects exist; ``remove_staging`` aborts
multipart uploads that crashed writers left under the prefix.

botocore's own retries are off (one attempt per call): drkit's retry wrapper
(:mod:`drkit.storage.retry`) retries :class:`TransientStorageError`, which this
module raises for connection failures, timeouts, throttling and 5xx answers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.exceptions
import urllib3.exceptions
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from drkit.errors import (
    DrkitError,
    ObjectNotFound,
    RepositoryExists,
    StorageError,
    StorageFull,
    TransientStorageError,
    UsageError,
)
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import translate_os_error

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

MiB = 1024 * 1024
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MULTIPART_CHUNK = 8 * MiB
DEFAULT_REGION = "us-east-1"

_PARAMS = (
    "endpoint",
    "region",
    "path_style",
    "access_key_env",
    "secret_key_env",
    "session_token_env",
)
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", re.IGNORECASE)
_REGION_RE = re.compile(r"[a-z0-9][a-z0-9-]*", re.IGNORECASE)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_TMP_PREFIX = ".tmp-"  # never listed, as in the local layout (a copied local repository)

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {
    "AccessDenied",
    "403",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "AccountProblem",
}
_TRANSIENT = {
    "SlowDown",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequests",
    "ServiceUnavailable",
    "InternalError",
    "OperationAborted",
}
_CREDENTIALS_HINT = (
    "check the credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), "
    "AWS_PROFILE, or the variables named by access_key_env= / secret_key_env=; the key needs "
    "s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket (without ListBucket S3 "
    "answers 403 for a missing object)"
)
_URL_HINT = (
    "use s3://BUCKET/PREFIX?endpoint=URL&region=NAME&path_style=true|false"
    "&access_key_env=VAR&secret_key_env=VAR"
)


@dataclass(frozen=True, slots=True)
class S3Config:
    """Where an S3 repository lives, parsed from its ``s3://`` URL."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    path_style: bool | None = None  # None: botocore decides (virtual where it can)
    access_key_env: str | None = None
    secret_key_env: str | None = None
    session_token_env: str | None = None

    @classmethod
    def parse(cls, url: str) -> S3Config:
        """Parse ``url``; raises UsageError saying what is wrong with it."""
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "s3":
            raise _bad_url(url, "it does not start with s3://")
        if "@" in parts.netloc:
            raise UsageError(
                f"the repository URL {url!r} contains credentials",
                hint="put them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
                "or name variables with access_key_env= and secret_key_env=",
            )
        bucket = parts.netloc
        if not bucket:
            raise _bad_url(url, "it names no bucket")
        if not _BUCKET_RE.fullmatch(bucket):
            raise _bad_url(
                url,
                f"{bucket!r} is not a bucket name "
                "(3 to 63 letters, digits, dots and hyphens, starting and ending with "
                "a letter or digit; an endpoint's host and port go in endpoint=)",
            )
        if parts.fragment:
            raise _bad_url(url, "it has a #fragment")
        params = _query(url, parts.query)
        endpoint = _endpoint(url, params.get("endpoint"))
        return cls(
            bucket=bucket,
            prefix=_prefix(url, parts.path),
            endpoint=endpoint,
            region=_region(url, params.get("region")),
            path_style=_flag(url, "path_style", params.get("path_style"), endpoint is not None),
            access_key_env=_env_name(url, "access_key_env", params.get("access_key_env")),
            secret_key_env=_env_name(url, "secret_key_env", params.get("secret_key_env")),
            session_token_env=_env_name(url, "session_token_env", params.get("session_token_env")),
        )._checked(url)

    def _checked(self, url: str) -> S3Config:
        if (self.access_key_env is None) != (self.secret_key_env is None):
            raise _bad_url(url, "access_key_env= and secret_key_env= go together")
        if self.session_token_env and not self.access_key_env:
            raise _bad_url(url, "session_token_env= needs access_key_env= and secret_key_env=")
        return self

    @property
    def display(self) -> str:
        """A short name for messages: ``s3://BUCKET/PREFIX`` (at ENDPOINT)."""
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint}" if self.endpoint else where

    def key(self, kind: FileKind, name: str) -> str:
        """The object key of ``(kind, name)``."""
        if kind is FileKind.CONFIG:
            rel = "config"
        elif kind is FileKind.PACK:
            rel = f"data/{name[:2]}/{name}"
        else:
            rel = f"{kind.value}/{name}"
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def folder(self, kind: FileKind) -> str:
        """The key prefix every object of ``kind`` starts with (ends in ``/``)."""
        return f"{self.prefix}/{kind.value}/" if self.prefix else f"{kind.value}/"


def _bad_url(url: str, why: str) -> UsageError:
    return UsageError(f"bad S3 repository URL {url!r}: {why}", hint=_URL_HINT)


def _query(url: str, query: str) -> dict[str, str]:
    try:
        raw = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _bad_url(url, f"cannot read the query {query!r}") from None
    unknown = sorted(set(raw) - set(_PARAMS))
    if unknown:
        raise _bad_url(url, f"unknown parameter {unknown[0]!r} (known: {', '.join(_PARAMS)})")
    repeated = sorted(name for name, values in raw.items() if len(values) > 1)
    if repeated:
        raise _bad_url(url, f"parameter {repeated[0]!r} is given twice")
    return {name: values[0] for name, values in raw.items()}


def _prefix(url: str, path: str) -> str:
    prefix = path.strip("/")
    if not prefix:
        return ""
    segments = prefix.split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        raise _bad_url(url, f"the prefix {prefix!r} has an empty, '.' or '..' segment")
    return prefix


def _endpoint(url: str, value: str | None) -> str | None:
    if value is None:
        return None
    ep = urlsplit(value)
    if ep.scheme not in ("http", "https") or not ep.hostname:
        raise _bad_url(url, f"endpoint {value!r} is not an http:// or https:// URL")
    try:
        ep.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise _bad_url(url, f"endpoint {value!r} has a bad port") from None
    if ep.path.strip("/") or ep.query or ep.fragment or ep.username:
        raise _bad_url(url, f"endpoint {value!r} must be only scheme://host[:port]")
    return f"{ep.scheme}://{ep.netloc}"


def _region(url: str, value: str | None) -> str | None:
    if value is not None and not _REGION_RE.fullmatch(value):
        raise _bad_url(url, f"region {value!r} is not a region name")
    return value


def _flag(url: str, name: str, value: str | None, default: bool) -> bool | None:
    if value is None:
        return True if default else None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _bad_url(url, f"{name}={value!r} is neither true nor false")


def _env_name(url: str, param: str, value: str | None) -> str | None:
    if value is not None and not _ENV_NAME_RE.fullmatch(value):
        raise _bad_url(url, f"{param}={value!r} is not an environment variable name")
    return value


def _credentials(
    config: S3Config, env: Mapping[str, str]
) -> tuple[str | None, str | None, str | None]:
    """Access key, secret and token from the variables the URL names; Nones: boto3's chain."""
    values: list[str | None] = []
    for var in (config.access_key_env, config.secret_key_env, config.session_token_env):
        value = env.get(var, "") if var else None
        if value == "":
            raise UsageError(
                f"the environment variable {var} named in the repository URL is not set",
                hint="export it, or drop the *_env= parameters to use the AWS environment",
            )
        values.append(value)
    return values[0], values[1], values[2]


def make_client(config: S3Config, env: Mapping[str, str] | None = None) -> S3Client:
    """A boto3 S3 client for ``config``: one attempt per call, explicit timeouts."""
    key, secret, token = _credentials(config, os.environ if env is None else env)
    try:
        session = boto3.session.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token
        )
    except ProfileNotFound as exc:
        raise StorageError(f"cannot open {config.display}: {exc}", hint=_CREDENTIALS_HINT) from exc
    region = config.region or session.region_name or DEFAULT_REGION
    style: Literal["path", "virtual", "auto"] = (
        "auto" if config.path_style is None else "path" if config.path_style else "virtual"
    )
    client_config = Config(
        region_name=region,
        signature_version="s3v4",
        retries={"total_max_attempts": 1, "mode": "standard"},  # drkit's wrapper retries
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_pool_connections=32,
        s3={"addressing_style": style},
        user_agent_extra="drkit",
    )
    return session.client("s3", endpoint_url=config.endpoint, config=client_config)


class S3Backend(Backend):
    """A repository stored under a prefix of an S3 bucket."""

    def __init__(self, config: S3Config, client: S3Client | None = None) -> None:
        self.config = config
        self.location = config.display
        self.client: S3Client = client or make_client(config)
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_CHUNK,
            multipart_chunksize=MULTIPART_CHUNK,
            max_concurrency=4,
            preferred_transfer_client="classic",
        )

    @classmethod
    def from_url(cls, url: str) -> S3Backend:
        return cls(S3Config.parse(url))

    @property
    def bucket(self) -> str:
        return self.config.bucket

    @contextmanager
    def _boundary(self, what: str) -> Iterator[None]:
        """Turn every library failure inside the block into a drkit StorageError."""
        try:
            yield
        except DrkitError:
            raise
        except Exception as exc:
            translated = translate_error(exc, what, self.config)
            if translated is None:
                raise
            raise translated from exc

    # -- the Backend calls -------------------------------------------------
    def create(self) -> None:
        if self.exists(FileKind.CONFIG, "config"):
            raise RepositoryExists(f"a repository already exists at {self.location}")
        with self._boundary(f"cannot create the bucket {self.bucket}"):
            if not self._bucket_exists():
                self._create_bucket()

    def _bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return False
            if code in ("403", "AccessDenied"):
                return True  # a key limited to objects: the bucket is someone's; try writing
            raise
        return True

    def _create_bucket(self) -> None:
        region = self.client.meta.region_name
        try:
            if region and region != DEFAULT_REGION:
                self.client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={
                        "LocationConstraint": cast("BucketLocationConstraintType", region)
                    },
                )
            else:
                self.client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) == "BucketAlreadyOwnedByYou":
                return
            if _code(exc) == "BucketAlreadyExists":
                raise StorageError(
                    f"the bucket name {self.bucket} is taken by another account",
                    hint="bucket names are global in AWS: choose another one",
                ) from exc
            raise

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        body = parts[0] if len(parts) == 1 and isinstance(parts[0], bytes) else b"".join(parts)
        key = self.config.key(kind, name)
        with self._boundary(f"cannot write {kind.value}/{name} to {self.location}"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        """Upload a finished pack (multipart above 8 MiB), then remove the file.

        On failure the file stays for the caller (a retry uploads it again).
        """
        key = self.config.key(kind, name)
        with self._boundary(f"cannot write {kind.value}/{name} to {self.location}"):
            self.client.upload_file(str(path), self.bucket, key, Config=self.transfer)
        try:
            path.unlink()
        except OSError as exc:
            raise translate_os_error(exc, f"cannot remove the staged file {path}") from exc

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        if length == 0:
            self.stat(kind, name)  # missing objects still raise ObjectNotFound
            return b""
        key = self.config.key(kind, name)
        ranged = offset > 0 or length is not None
        last = "" if length is None else str(offset + length - 1)
        with self._boundary(f"cannot read {kind.value}/{name} from {self.location}"):
            try:
                if ranged:
                    rsp = self.client.get_object(
                        Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{last}"
                    )
                else:
                    rsp = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) == "InvalidRange" or _status(exc) == 416:
                    return b""  # the range starts at or past the end
                raise
            data = rsp["Body"].read()
        if ranged and not rsp.get("ContentRange"):  # the server ignored Range: cut here
            end = None if length is None else offset + length
            data = data[offset:end]
        return data

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        key = self.config.key(kind, name)
        with self._boundary(f"cannot stat {kind.value}/{name} in {self.location}"):
            rsp = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(name, rsp["ContentLength"])

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        if kind is FileKind.CONFIG:
            try:
                yield self.stat(kind, "config")
            except ObjectNotFound:
                pass
            return
        folder = self.config.folder(kind)
        depth = 2 if kind is FileKind.PACK else 1
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=folder)
        with self._boundary(f"cannot list {kind.value} in {self.location}"):
            for page in pages:
                for obj in page.get("Contents", []):
                    info = _listed(obj["Key"][len(folder) :], obj["Size"], depth)
                    if info is not None:
                        yield info

    def remove(self, kind: FileKind, name: str) -> None:
        key = self.config.key(kind, name)
        try:
            with self._boundary(f"cannot remove {kind.value}/{name} from {self.location}"):
                self.client.delete_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            pass  # no bucket: nothing to remove

    def remove_staging(self) -> int:
        """Abort multipart uploads left under the prefix by crashed writers.

        Only safe under an exclusive repository lock, when no writer runs.
        """
        prefix = f"{self.config.prefix}/" if self.config.prefix else ""
        removed = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        with self._boundary(f"cannot clean up unfinished uploads in {self.location}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        return removed

    def close(self) -> None:
        self.client.close()


def _listed(rel: str, size: int, depth: int) -> ObjectInfo | None:
    """The object a key below its kind's folder names; None for anything else."""
    segments = rel.split("/")
    name = segments[-1]
    if len(segments) != depth or not name or name.startswith(_TMP_PREFIX):
        return None
    if depth == 2 and segments[0] != name[:2]:
        return None  # a pack in the wrong folder cannot be loaded by name
    return ObjectInfo(name, size)


# -- errors ----------------------------------------------------------------
# Failures of the connection, not of the request: worth another attempt. botocore
# wraps most (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
# ConnectionClosedError, ResponseStreamingError); the rest can leak from a body read.
_NETWORK_ERRORS = (
    botocore.exceptions.ConnectionError,
    HTTPClientError,
    IncompleteReadError,
    urllib3.exceptions.HTTPError,
    ConnectionError,  # the builtin: reset, aborted, refused, broken pipe
    TimeoutError,
)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def translate_error(exc: BaseException, what: str, config: S3Config) -> StorageError | None:
    """The drkit error for a failure of boto3 or the network; None: not ours to translate."""
    if isinstance(exc, S3UploadFailedError):  # upload_file hides the ClientError inside
        inner = exc.__cause__ or exc.__context__
        if inner is not None and inner is not exc:
            return translate_error(inner, what, config)
        return StorageError(f"{what}: {exc}")
    if isinstance(exc, ClientError):
        return _translate_client_error(exc, what, config)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(f"{what}: {exc}", hint=_CREDENTIALS_HINT)
    if isinstance(exc, _NETWORK_ERRORS):
        where = config.endpoint or "S3"
        return TransientStorageError(f"{what}: {where} did not answer reliably: {exc}")
    if isinstance(exc, OSError):
        return translate_os_error(exc, what)
    if isinstance(exc, BotoCoreError):
        return StorageError(f"{what}: {exc}")
    return None


def _translate_client_error(exc: ClientError, what: str, config: S3Config) -> StorageError:
    code, status = _code(exc), _status(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or code or str(status)
    if code == "NoSuchBucket":
        return ObjectNotFound(
            f"{what}: the bucket {config.bucket} does not exist",
            hint="check the bucket name in the repository URL; `drkit init` creates the bucket",
        )
    if code in _NOT_FOUND:
        return ObjectNotFound(f"{what}: no such object")
    if code in _DENIED:
        return StorageError(f"{what}: access denied ({code}: {message})", hint=_CREDENTIALS_HINT)
    if "StorageFull" in code or "QuotaExceeded" in code:
        return StorageFull(f"{what}: the storage is full ({code}: {message})")
    if code in _TRANSIENT or status >= 500 or status == 429:
        return TransientStorageError(f"{what}: {code or status}: {message}")
    return StorageError(f"{what}: {code or status}: {message}")
