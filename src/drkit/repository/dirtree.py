"""Fingerprints of directories: when the tree blob of the last backup can be reused.

A tree blob holds a directory's entries as nodes (tree.py), and every field
of a node comes from one of: the entry's name, its ``lstat``, the names of
its owner and group, a symlink's target, its xattrs, the ids of a file's
content or of a subdirectory's tree, and an error met reading it. Of those,
xattrs are not looked at here: setting or removing one changes the inode's
ctime, which is in the ``lstat``. So a directory whose entries have the same
names, ``lstat`` values (all but the access time, which the nodes leave out),
owner names, symlink targets and content/subtree ids, and no errors, gives
the same tree blob as last time: the backup reuses its id and builds, encodes
and hashes nothing for it.

The fingerprint hashes exactly those values, entries sorted by name, so it is
the same whatever order ``scandir`` lists them in. It is a cache key, kept in
the local file cache (filecache.py) next to the tree id, never stored in the
repository: changing what it covers only costs one rebuild of the trees.
"""

from __future__ import annotations

import os
import struct

import blake3

from drkit.repository.metadata import group_name, user_name

_STAT = struct.Struct("<IIIqqQQQQQ")
_COUNT = struct.Struct("<I")
_SEP = b"\0"


def entry_signature(name: str, st: os.stat_result, target: str = "") -> bytes:
    """What a node of ``name`` holds besides its xattrs and blob ids, as bytes.

    ``target`` is a symlink's target (read by the caller; empty for other kinds).
    """
    owner = _OWNERS.get((st.st_uid, st.st_gid))
    if owner is None:
        owner = _OWNERS[(st.st_uid, st.st_gid)] = _owner_names(st.st_uid, st.st_gid)
    return b"".join(
        (
            name.encode("utf-8", "surrogateescape"),
            _SEP,
            _STAT.pack(
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_ino,
                st.st_dev,
                st.st_nlink,
                st.st_size,
                st.st_rdev,
            ),
            owner,
            target.encode("utf-8", "surrogateescape"),
            _SEP,
        )
    )


_OWNERS: dict[tuple[int, int], bytes] = {}  # as metadata's name caches: one lookup per run


def _owner_names(uid: int, gid: int) -> bytes:
    user, group = user_name(uid), group_name(gid)
    return b"".join(
        (
            user.encode("utf-8", "surrogateescape"),
            _SEP,
            group.encode("utf-8", "surrogateescape"),
            _SEP,
        )
    )


def fingerprint(entries: list[tuple[str, bytes, list[bytes]]]) -> bytes:
    """The fingerprint of a directory from ``(name, signature, blob ids)`` per entry.

    The blob ids are a file's content ids, a subdirectory's tree id, or none.
    """
    parts: list[bytes] = []
    for _name, signature, ids in sorted(entries, key=_by_name):
        parts.append(signature)
        parts.append(_COUNT.pack(len(ids)))
        parts.extend(ids)
    return blake3.blake3(b"".join(parts)).digest()


def _by_name(entry: tuple[str, bytes, list[bytes]]) -> str:
    return entry[0]
