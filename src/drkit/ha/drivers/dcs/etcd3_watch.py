"""A watch on one etcd key that wakes the HA loop when the key changes (Patroni does the same).

The loop still reads and decides on its own schedule; the watch only ends its
wait early, so a leader key that expires (etcd deletes it with its lease) is
acted on at once instead of up to one loop interval later. A watch that cannot
be kept (etcd away, a member without quorum) costs nothing but that speed: it
tries again after a pause, from the revision it last saw, so no change between
two streams is missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from drkit.ha.drivers.dcs.etcd3_client import EtcdClient, Json, b64, num
from drkit.ha.drivers.errors import DCSError

log = logging.getLogger("drkit.ha.dcs")

IDLE_S = 5.0
"""A stream silent this long is replaced by a new one (a member may have died quietly)."""
RETRY_PAUSE_S = 0.5
"""Between a failed stream and the next try."""


def changed(message: Json) -> bool:
    """The key changed, or etcd ended the watch (compacted past it): a change may be missed."""
    return bool(message.get("events")) or _ended(message)


def next_revision(message: Json, current: int) -> int:
    """The revision to resume from after ``message`` (0: from now on).

    After events, one past the newest; after the creation of a watch from now on,
    one past the store's revision then; a watch that etcd ended starts afresh.
    """
    if _ended(message):
        return 0
    revisions = [num(e.get("kv", {}).get("mod_revision")) for e in message.get("events", [])]
    if revisions:
        return max(current, max(revisions) + 1)
    if message.get("created") and not current:
        return num(message.get("header", {}).get("revision")) + 1
    return current


def _ended(message: Json) -> bool:
    return bool(message.get("canceled")) or num(message.get("compact_revision")) > 0


class KeyWatch:
    """Calls ``on_change`` from its own thread each time ``key`` changes, until stopped."""

    def __init__(self, client: EtcdClient, key: str, on_change: Callable[[], None]) -> None:
        self.client, self.key, self.on_change = client, key, on_change
        self._stop = threading.Event()
        self._revision = 0
        self._thread = threading.Thread(target=self._run, name=f"etcd-watch {key}", daemon=True)

    def start(self) -> KeyWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at the end of the current stream (at most :data:`IDLE_S`); never blocks."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._stream_once()
            except DCSError as exc:
                log.debug("watch of %s: %s; again in %.1f s", self.key, exc, RETRY_PAUSE_S)
                self._stop.wait(RETRY_PAUSE_S)
            except Exception:  # a wake-up hint only: never let it die of a surprise
                log.exception("watch of %s failed; again in %.1f s", self.key, RETRY_PAUSE_S)
                self._stop.wait(RETRY_PAUSE_S)

    def _stream_once(self) -> None:
        request: Json = {"key": b64(self.key)}
        if self._revision:
            request["start_revision"] = str(self._revision)
        body = {"create_request": request}
        for message in self.client.stream("watch", body, idle_s=IDLE_S):
            if self._stop.is_set():
                return
            self._revision = next_revision(message, self._revision)
            if changed(message):
                self.on_change()
            if _ended(message):
                return
