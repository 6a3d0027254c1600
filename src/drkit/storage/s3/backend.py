"""The S3 backend: objects in a bucket under a prefix, large packs as multipart uploads."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ProfileNotFound,
)

from drkit.errors import (
    DrkitError,
    ObjectNotFound,
    RepositoryExists,
    StorageError,
)
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import translate_os_error
from drkit.storage.s3.config import (
    _TMP_PREFIX,
    CONNECT_TIMEOUT,
    DEFAULT_REGION,
    MULTIPART_CHUNK,
    READ_TIMEOUT,
    S3Config,
    _credentials,
)
from drkit.storage.s3.errors import _CREDENTIALS_HINT, _code, _status, translate_error

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

MiB = 1024 * 1024


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
    def _boundary(self, what: str, *, write: bool = False) -> Iterator[None]:
        """Turn every library failure inside the block into a drkit StorageError."""
        try:
            yield
        except DrkitError:
            raise
        except Exception as exc:
            translated = translate_error(exc, what, self.config, write=write)
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
        with self._boundary(f"cannot write {kind.value}/{name} to {self.location}", write=True):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        """Upload a finished pack (multipart above 8 MiB), then remove the file.

        On failure the file stays for the caller (a retry uploads it again).
        """
        key = self.config.key(kind, name)
        with self._boundary(f"cannot write {kind.value}/{name} to {self.location}", write=True):
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
            with self._boundary(
                f"cannot remove {kind.value}/{name} from {self.location}", write=True
            ):
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
