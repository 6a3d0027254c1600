"""Pieces every notifier's settings model is made of.

Each driver owns its settings model (in its own module); they all derive from
:class:`NotifierModel` (frozen, unknown keys are errors) and use the field
types here. Secrets are never values in drkit.yaml: a model names an
environment variable (``*_env``) or a file (``*_file``) holding the secret, and
:class:`SecretSource` reads it when the notifier is built.

This module must not import drkit.settings (settings validates with the registry).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from drkit.notify.errors import NotifierSecretMissing
from drkit.plugins import PluginSettings
from drkit.secrets import read_secret

DEFAULT_TIMEOUT_S = 10.0
"""Seconds one delivery attempt may take (connect, send, answer)."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            "env_name", "not an environment variable name (letters, digits and '_')"
        )
    return value


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("blank_string", "must not be empty")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("http_url", "must be an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise PydanticCustomError("http_url", "the URL has a bad port") from None
    return value


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise PydanticCustomError("header_name", "not an HTTP header name")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""The name of an environment variable holding a secret."""

SecretFile = Annotated[Path, BeforeValidator(_not_blank), AfterValidator(Path.expanduser)]
"""A file holding a secret (its first line; a trailing newline is dropped); ``~`` expanded."""

NonBlank = Annotated[str, BeforeValidator(_not_blank)]
"""A string that is not empty or only whitespace."""

HttpUrl = Annotated[str, BeforeValidator(_not_blank), AfterValidator(_http_url)]
"""An ``http://`` or ``https://`` URL with a host."""

HeaderName = Annotated[str, AfterValidator(_header_name)]
"""An HTTP header name."""

Timeout = Annotated[float, Field(gt=0, le=300)]
"""Seconds, more than 0 and at most 300."""


class NotifierModel(PluginSettings):
    """Base of the drivers' settings: immutable, unknown keys are errors."""

    def target(self) -> str:
        """Where the notifier delivers, for listings; never a secret."""
        return self.type


def check_secret_pair(env: str | None, file: Path | None, *, prefix: str, required: bool) -> None:
    """Refuse both ``PREFIX_env`` and ``PREFIX_file``, or neither when the secret is required."""
    if env is not None and file is not None:
        raise PydanticCustomError(
            "secret_conflict",
            "{prefix}_env and {prefix}_file are mutually exclusive; set only one",
            {"prefix": prefix},
        )
    if required and env is None and file is None:
        raise PydanticCustomError(
            "secret_missing",
            "set {prefix}_env (an environment variable) or {prefix}_file (a file) "
            "holding the {prefix}; it is never written into drkit.yaml",
            {"prefix": prefix},
        )


@dataclass(frozen=True)
class SecretSource:
    """Where one secret of one notifier comes from: an environment variable or a file."""

    notifier: str
    what: str
    env: str | None = None
    file: Path | None = None

    @property
    def configured(self) -> bool:
        return self.env is not None or self.file is not None

    def describe(self) -> str:
        """``env DRKIT_X`` / ``file /etc/x`` / ``none``, for listings."""
        if self.env is not None:
            return f"env {self.env}"
        return f"file {self.file}" if self.file is not None else "none"

    def read(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The secret, or None when none is configured; NotifierSecretMissing if unreadable."""
        if self.env is not None:
            return self._from_env(self.env, os.environ if environ is None else environ)
        if self.file is not None:
            return self._from_file(self.file)
        return None

    def require(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret; NotifierSecretMissing when none is configured or it is unreadable."""
        value = self.read(environ)
        if value is None:
            raise NotifierSecretMissing(f"notifier {self.notifier!r} has no {self.what}")
        return value

    def _from_env(self, name: str, environ: Mapping[str, str]) -> str:
        secret = read_secret(self._label, env=name, environ=environ, error=NotifierSecretMissing)
        assert secret is not None  # a variable was named
        return secret

    def _from_file(self, path: Path) -> str:
        secret = read_secret(self._label, file=path, error=NotifierSecretMissing)
        assert secret is not None  # a file was named
        return secret

    @property
    def _label(self) -> str:
        return f"the {self.what} of notifier {self.notifier!r}"
