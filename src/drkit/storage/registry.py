"""The storage backends drkit knows, and picking one from a repository URL.

``/path``, ``./path`` and ``file:///path`` are local folders; ``memory:`` is
for tests. :data:`STORAGE` is the one list: each backend module declares its
``PLUGIN`` (type = URL scheme, settings, builder); an unknown scheme is an
error that lists the known ones.
"""

from __future__ import annotations

from drkit.errors import UsageError
from drkit.plugins import Registry
from drkit.storage import local, memory
from drkit.storage.base import Backend, StorageSettings
from drkit.storage.s3 import config as s3
from drkit.storage.sftp import config as sftp

STORAGE = Registry[StorageSettings, Backend](
    "storage", [local.PLUGIN, memory.PLUGIN, s3.PLUGIN, sftp.PLUGIN]
)


def scheme_of(url: str) -> str:
    """The URL's scheme; a bare path (or a Windows drive letter) is ``file``."""
    scheme = url.split(":", 1)[0] if ":" in url and not url.startswith(("/", ".")) else "file"
    return "file" if len(scheme) == 1 else scheme


def open_backend(url: str) -> Backend:
    """Return the backend for ``url``, wrapped in retries (``memory:`` bare, for tests)."""
    if not url:
        raise UsageError("no repository given", hint="pass --repo URL or set DRKIT_REPO")
    scheme = scheme_of(url)
    plugin = STORAGE.by_scheme(scheme)
    if plugin is None:
        raise UsageError(
            f"unknown repository scheme {scheme!r} in {url!r}",
            hint=f"known schemes: {', '.join(STORAGE.schemes)}; a plain path is a local folder",
        )
    backend = STORAGE.build(plugin.settings(url=url))
    if plugin.type == "memory":  # tests of the layers above storage want the bare thing
        return backend
    from drkit.storage.retry import RetryBackend

    return RetryBackend(backend)
