"""Retrying a backend's calls when the storage target has a passing failure.

:class:`RetryBackend` wraps any :class:`~drkit.storage.base.Backend`. A call
that raises :class:`~drkit.errors.TransientStorageError` (connection reset,
timeout, 5xx) is made again after an exponential backoff with full jitter:
before attempt ``n + 1`` it sleeps a random time between 0 and
``min(max_delay, base_delay * 2 ** (n - 1))``. Every other error, including
``ObjectNotFound`` and ``StorageFull``, passes through at once. When the last
attempt fails too, its error is raised with a hint saying how many attempts
were made.

Every call is safe to repeat because of the Backend contract: ``save`` is
atomic and content-addressed (or a lock that may be replaced), ``remove`` is
idempotent, reads have no effect. Two calls need care:

* ``save_file`` hands the inner backend a hard link to the staged file (a copy
  where links are impossible), never the file itself, because a backend may
  move or delete the file it is given, on success (local moves it into place)
  or on failure (local removes it). The staged file is removed only after an
  attempt succeeded; after a final failure it is left for the caller, which
  discards it (``Packer``).
* ``list`` is retried as a whole: a failed listing is thrown away and started
  again, so the objects are collected in memory before the first is yielded.

Defaults: 6 attempts, 0.2 s base delay, 10 s cap. The environment may
override them (tests use this to keep outages short): ``DRKIT_RETRY_ATTEMPTS``,
``DRKIT_RETRY_BASE_DELAY`` and ``DRKIT_RETRY_MAX_DELAY`` (seconds).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from drkit.errors import TransientStorageError, UsageError
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import translate_os_error

log = logging.getLogger("drkit.storage")

T = TypeVar("T")

ENV_ATTEMPTS = "DRKIT_RETRY_ATTEMPTS"
ENV_BASE_DELAY = "DRKIT_RETRY_BASE_DELAY"
ENV_MAX_DELAY = "DRKIT_RETRY_MAX_DELAY"
_SPARE_PREFIX = ".tmp-retry-"  # local remove_staging() clears leftovers with this prefix


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing call is made again."""

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise UsageError(
                f"retry attempts must be at least 1, not {self.attempts}",
                hint=f"check {ENV_ATTEMPTS}",
            )
        if not (self.base_delay >= 0 and self.max_delay >= 0):  # also refuses NaN
            raise UsageError(
                "retry delays must not be negative",
                hint=f"check {ENV_BASE_DELAY} and {ENV_MAX_DELAY}",
            )

    def delay(self, failed_attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (1-based): full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(failed_attempt - 1, 60))
        return ceiling * rand()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        """The defaults, overridden by the ``DRKIT_RETRY_*`` variables that are set."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            attempts=_env_int(env, ENV_ATTEMPTS, default.attempts),
            base_delay=_env_seconds(env, ENV_BASE_DELAY, default.base_delay),
            max_delay=_env_seconds(env, ENV_MAX_DELAY, default.max_delay),
        )


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not valid", hint="set it to a whole number") from None


def _env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise UsageError(
            f"{name}={raw!r} is not valid", hint="set it to a number of seconds"
        ) from None


class RetryBackend(Backend):
    """Any backend, with transient failures retried (see the module docstring)."""

    def __init__(
        self,
        inner: Backend,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.inner = inner
        self.location = inner.location
        self.policy = policy if policy is not None else RetryPolicy.from_env()
        self._sleep = sleep
        self._rand = rand

    # -- the retry loop ----------------------------------------------------------
    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        attempts = self.policy.attempts
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except TransientStorageError as exc:
                if attempt == attempts:
                    _note_attempts(exc, attempts)
                    raise
                self._wait(attempt, operation, exc)
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, attempt: int, operation: str, exc: TransientStorageError) -> None:
        pause = self.policy.delay(attempt, self._rand)
        log.warning(
            "storage: %s failed (attempt %d of %d): %s; retrying in %.2f s",
            operation,
            attempt,
            self.policy.attempts,
            exc,
            pause,
        )
        self._sleep(pause)

    # -- the Backend calls -------------------------------------------------------
    def create(self) -> None:
        self._call("create", self.inner.create)

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        self._call(f"save {_what(kind, name)}", lambda: self.inner.save(kind, name, parts))

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        self._call(f"save {_what(kind, name)}", lambda: self._save_spare(kind, name, path))
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise translate_os_error(exc, f"cannot remove the staged file {path}") from exc

    def _save_spare(self, kind: FileKind, name: str, path: Path) -> None:
        """One attempt: the inner backend may move or delete the link, never ``path``."""
        spare = spare_copy(path)
        try:
            self.inner.save_file(kind, name, spare)
        finally:
            spare.unlink(missing_ok=True)

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        return self._call(
            f"load {_what(kind, name)}", lambda: self.inner.load(kind, name, offset, length)
        )

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        return self._call(f"stat {_what(kind, name)}", lambda: self.inner.stat(kind, name))

    def exists(self, kind: FileKind, name: str) -> bool:
        return self._call(f"stat {_what(kind, name)}", lambda: self.inner.exists(kind, name))

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        yield from self._call(f"list {kind.value}", lambda: list(self.inner.list(kind)))

    def remove(self, kind: FileKind, name: str) -> None:
        self._call(f"remove {_what(kind, name)}", lambda: self.inner.remove(kind, name))

    # -- delegated as they are ---------------------------------------------------------
    def staging_dir(self) -> Path | None:
        return self.inner.staging_dir()

    def remove_staging(self) -> int:
        return self.inner.remove_staging()

    def close(self) -> None:
        self.inner.close()


def spare_copy(path: Path) -> Path:
    """A second name for the staged file (a hard link; a copy if links fail)."""
    spare = path.with_name(f"{_SPARE_PREFIX}{secrets.token_hex(6)}")
    try:
        os.link(path, spare)
    except FileNotFoundError as exc:
        raise translate_os_error(exc, f"the staged file {path} is gone") from exc
    except OSError:
        try:
            shutil.copyfile(path, spare)
        except OSError as exc:
            spare.unlink(missing_ok=True)
            raise translate_os_error(exc, f"cannot copy the staged file {path}") from exc
    return spare


def _note_attempts(exc: TransientStorageError, attempts: int) -> None:
    """Prefix the error's hint with how often drkit tried before giving up."""
    tried = f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
    if exc.hint == TransientStorageError.default_hint or not exc.hint:
        exc.hint = f"{tried}: the storage target did not answer reliably; try again later"
    else:
        exc.hint = f"{tried}; {exc.hint}"


def _what(kind: FileKind, name: str) -> str:
    return "config" if kind is FileKind.CONFIG else f"{kind.value}/{name}"
