"""SFTP backend: a repository in a folder on an SSH server (paramiko).

URL::

    sftp://USER@HOST:PORT/ABSOLUTE/PATH?key=PATH&known_hosts=PATH&timeout=SECONDS

``USER`` defaults to the local user and ``PORT`` to 22. ``key`` is a private
key file; without it the SSH agent and the default keys in ``~/.ssh`` are
tried (paramiko's rules). ``known_hosts`` defaults to ``~/.ssh/known_hosts``;
a host whose key is not in it is refused (never added on the fly), with a hint
saying how to add it. ``timeout`` (seconds, default 30) bounds connecting and
every single request.

Layout: the same as every backend's (``config keys/ID locks/ID snapshots/ID
index/ID data/XX/ID``). Writes are atomic: the object is uploaded to
``.tmp-NAME-RANDOM`` in its folder, checked for size, fsync'ed (OpenSSH's
``fsync@openssh.com``, when offered), then renamed into place with
``posix-rename@openssh.com``, which replaces a target atomically. Listings
skip ``.tmp-`` names, so half-written objects are never seen.

Threads: a paramiko ``SFTPClient`` serves one thread at a time, so the backend
keeps a small pool of SFTP channels (sessions) over one SSH connection; a call
borrows a channel for its duration. A connection found dead is replaced on the
next call. Errors are translated at this boundary: missing objects become
``ObjectNotFound``, lost connections and timeouts ``TransientStorageError``
(the retry wrapper calls again), a full disk ``StorageFull`` (best effort:
OpenSSH reports it as a bare "Failure", so the free space is asked with
``statvfs@openssh.com``), and refused host keys or logins a ``StorageError``
whose hint says what to fix.

The names below are imported on first use: the registry imports only
``config`` (to declare the driver), so naming the backend costs no library.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SftpBackend": "backend",
    "SftpConfig": "config",
    "connect": "connection",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
