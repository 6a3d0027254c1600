"""The configuration history inside backup repositories: push, and read back.

A push saves one snapshot tagged ``config-history`` holding the whole
retained history: ``/config-history/versions.json`` (every version's id,
scope, author, time, message, hash, size and mode) and each version's
content at ``/config-history/content/UID``. The repository encrypts them
with its own key, so any copy (off-site included) rebuilds the history with
the repository's passphrase alone, without the catalog or its key.
Repository deduplication stores unchanged contents once, so a daily push
costs about the size of what changed. A push whose history equals the
newest pushed one is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from drkit.confighistory.errors import VersionNotFound
from drkit.confighistory.model import ConfigVersion, Scope
from drkit.confighistory.store import VersionStore
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.locks import RepoLock
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.repository.stream import StreamArchiver, open_stream
from drkit.repository.writer import BlobWriter

TAG = "config-history"
ROOT = "/config-history"
INDEX = f"{ROOT}/versions.json"
FORMAT = 1
_DIGEST_META = "config_history.digest"


@dataclass(frozen=True)
class PushResult:
    repository: str
    snapshot: str | None  # None: skipped, the newest pushed snapshot already holds it all
    versions: int
    skipped: bool


def history_digest(versions: list[ConfigVersion]) -> str:
    return hashlib.sha256("\n".join(sorted(v.uid for v in versions)).encode()).hexdigest()


def pushed_snapshots(repo: Repository) -> list[Snapshot]:
    return [s for s in repo.snapshots(on_damaged=lambda *_: None) if TAG in s.tags]


def push(store: VersionStore, repo: Repository, name: str) -> PushResult:
    """Save the whole history as one snapshot in ``repo`` unless it is already there."""
    versions = sorted(store.history(), key=lambda v: (v.created_at, v.id))
    digest = history_digest(versions)
    with RepoLock(repo, exclusive=False, operation="config push"):
        previous = pushed_snapshots(repo)
        latest = previous[-1] if previous else None
        if latest is not None and latest.meta.get(_DIGEST_META) == digest:
            return PushResult(name, None, len(versions), skipped=True)
        repo.load_index()
        snap = _save(store, repo, versions, digest, latest)
    return PushResult(name, snap.id, len(versions), skipped=False)


def _save(
    store: VersionStore,
    repo: Repository,
    versions: list[ConfigVersion],
    digest: str,
    parent: Snapshot | None,
) -> Snapshot:
    meta = {
        "source.type": TAG,
        "config_history.format": str(FORMAT),
        "config_history.versions": str(len(versions)),
        _DIGEST_META: digest,
    }
    destination = Destination(repo, BlobWriter(repo), FileCache(None))
    with StreamArchiver([destination], paths=[ROOT], tags=[TAG], meta=meta) as archiver:
        for version in versions:
            archiver.add(f"{ROOT}/content/{version.uid}", [store.content(version)])
        archiver.add(INDEX, [_index(versions)])
        [snap] = archiver.commit([parent])
    return snap


def _index(versions: list[ConfigVersion]) -> bytes:
    doc = {
        "format": FORMAT,
        "versions": [
            {
                "uid": v.uid,
                "scope": str(v.scope),
                "author": v.author,
                "created_at": v.created_at.isoformat(),
                "message": v.message,
                "content_hash": v.content_hash,
                "size": v.size,
                "mode": v.mode,
            }
            for v in versions
        ],
    }
    return json.dumps(doc, indent=1, sort_keys=True).encode()


def read_history(
    repo: Repository, snapshot_ref: str = "latest"
) -> tuple[Snapshot, list[tuple[ConfigVersion, Callable[[], bytes]]]]:
    """The pushed snapshot and every version in it, each with a reader of its content."""
    pushed = pushed_snapshots(repo)
    if not pushed:
        raise VersionNotFound(
            "the repository holds no configuration history",
            hint="`drkit config push --repo NAME` writes it (and every collection does, "
            "for the repositories under config_history.repositories)",
        )
    snap = find_snapshot(pushed, snapshot_ref)
    repo.load_index()
    doc = json.loads(b"".join(open_stream(repo, snap, INDEX)))
    found = []
    for entry in doc["versions"]:
        version = _version(entry)
        path = f"{ROOT}/content/{version.uid}"
        found.append((version, _reader(repo, snap, path)))
    return snap, found


def _reader(repo: Repository, snap: Snapshot, path: str) -> Callable[[], bytes]:
    return lambda: b"".join(open_stream(repo, snap, path))


def _version(entry: dict[str, object]) -> ConfigVersion:
    mode = entry.get("mode")
    return ConfigVersion(
        id=0,  # the id is the catalog's own; an imported version gets a new one
        uid=str(entry["uid"]),
        scope=Scope.parse(str(entry["scope"])),
        author=str(entry["author"]),
        created_at=datetime.fromisoformat(str(entry["created_at"])),
        message=str(entry["message"]),
        content_hash=str(entry["content_hash"]),
        size=int(str(entry["size"])),
        mode=int(str(mode)) if mode is not None else None,
    )


def import_history(store: VersionStore, repo: Repository, snapshot_ref: str = "latest") -> int:
    """Copy every version the catalog lacks from the repository; return how many."""
    _, versions = read_history(repo, snapshot_ref)
    known = store.uids()
    added = 0
    for version, read in versions:
        if version.uid not in known and store.import_version(version, read()):
            added += 1
    return added
