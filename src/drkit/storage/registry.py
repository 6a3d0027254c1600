"""Pick a backend from a repository URL.

``/path``, ``./path`` and ``file:///path`` are local folders; ``memory:`` is
for tests. Unknown schemes are an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from drkit.errors import UsageError
from drkit.storage.base import Backend


def _local(url: str) -> Backend:
    from drkit.storage.local import LocalBackend

    path = urlparse(url).path if url.startswith("file://") else url
    return LocalBackend(Path(path).expanduser().absolute())


def _memory(url: str) -> Backend:
    from drkit.storage.memory import MemoryBackend

    return MemoryBackend(url)


def _s3(url: str) -> Backend:
    from drkit.storage.s3 import S3Backend

    return S3Backend.from_url(url)


def _sftp(url: str) -> Backend:
    from drkit.storage.sftp import SftpBackend, SftpConfig

    return SftpBackend(SftpConfig.parse(url))


SCHEMES: dict[str, Callable[[str], Backend]] = {
    "file": _local,
    "memory": _memory,
    "s3": _s3,
    "sftp": _sftp,
}


def open_backend(url: str) -> Backend:
    """Return the backend for ``url``; a bare path means the local filesystem."""
    if not url:
        raise UsageError("no repository given", hint="pass --repo URL or set DRKIT_REPO")
    scheme = url.split(":", 1)[0] if ":" in url and not url.startswith(("/", ".")) else "file"
    if len(scheme) == 1:  # a Windows drive letter is a path, not a scheme
        scheme = "file"
    try:
        factory = SCHEMES[scheme]
    except KeyError:
        known = ", ".join(sorted(SCHEMES))
        raise UsageError(
            f"unknown repository scheme {scheme!r} in {url!r}",
            hint=f"known schemes: {known}; a plain path is a local folder",
        ) from None
    backend = factory(url)
    if scheme == "memory":  # tests of the layers above storage want the bare thing
        return backend
    from drkit.storage.retry import RetryBackend

    return RetryBackend(backend)
