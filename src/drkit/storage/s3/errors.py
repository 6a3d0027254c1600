"""Translating boto3 and botocore failures into drkit's storage errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import botocore.exceptions
import urllib3.exceptions
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
)

from drkit.errors import (
    ObjectNotFound,
    StorageError,
    StorageFull,
    StorageReadOnly,
    TransientStorageError,
)
from drkit.storage.local import translate_os_error
from drkit.storage.s3.config import S3Config

if TYPE_CHECKING:
    pass

MiB = 1024 * 1024


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
_WRITE_DENIED = {"AccessDenied", "403", "AllAccessDisabled"}  # not: bad or expired keys
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


def translate_error(
    exc: BaseException, what: str, config: S3Config, *, write: bool = False
) -> StorageError | None:
    """The drkit error for a failure of boto3 or the network; None: not ours to translate.

    ``write``: the call changes the repository, so access denied means read-only
    credentials or a WORM bucket (StorageReadOnly, as for a read-only local folder)."""
    if isinstance(exc, S3UploadFailedError):  # upload_file hides the ClientError inside
        inner = exc.__cause__ or exc.__context__
        if inner is not None and inner is not exc:
            return translate_error(inner, what, config, write=write)
        return StorageError(f"{what}: {exc}")
    if isinstance(exc, ClientError):
        return _translate_client_error(exc, what, config, write)
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


def _translate_client_error(
    exc: ClientError, what: str, config: S3Config, write: bool = False
) -> StorageError:
    code, status = _code(exc), _status(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or code or str(status)
    if code == "NoSuchBucket":
        return ObjectNotFound(
            f"{what}: the bucket {config.bucket} does not exist",
            hint="check the bucket name in the repository URL; `drkit init` creates the bucket",
        )
    if code in _NOT_FOUND:
        return ObjectNotFound(f"{what}: no such object")
    if write and code in _WRITE_DENIED:
        return StorageReadOnly(
            f"{what}: access denied ({code}: {message})",
            hint="these credentials may not write to the bucket (read-only key, WORM or "
            "object-lock bucket); restore, check, snapshots and ls still work without a lock",
        )
    if code in _DENIED:
        return StorageError(f"{what}: access denied ({code}: {message})", hint=_CREDENTIALS_HINT)
    if "StorageFull" in code or "QuotaExceeded" in code:
        return StorageFull(f"{what}: the storage is full ({code}: {message})")
    if code in _TRANSIENT or status >= 500 or status == 429:
        return TransientStorageError(f"{what}: {code or status}: {message}")
    return StorageError(f"{what}: {code or status}: {message}")
