"""The S3 repository URL: bucket, prefix, endpoint, region and where credentials come from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit

from drkit.errors import (
    UsageError,
)
from drkit.plugins import Plugin
from drkit.storage.base import Backend, FileKind, StorageSettings

if TYPE_CHECKING:
    pass

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
        try:
            parts = urlsplit(url.strip())
        except ValueError as exc:  # "Invalid IPv6 URL": a '[' without its ']'
            raise _bad_url(url, f"it is not a URL ({exc})") from None
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
    try:
        ep = urlsplit(value)
    except ValueError as exc:  # "Invalid IPv6 URL": a '[' without its ']'
        raise _bad_url(url, f"endpoint {value!r} is not a URL ({exc})") from None
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


class S3Settings(StorageSettings):
    """``s3://BUCKET[/PREFIX][?...]`` (the parameters are in :mod:`drkit.storage.s3`)."""

    type: Literal["s3"] = "s3"


def build(settings: S3Settings) -> Backend:
    from drkit.storage.s3.backend import S3Backend  # boto3 only when S3 is used

    return S3Backend.from_url(settings.url)


PLUGIN = Plugin("s3", S3Settings, build, "Amazon S3 or an S3-compatible store", schemes=("s3",))
