"""A leader-key change ends the agent's pause at once; the watch's resume revision."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drkit.ha.agent import AgentTimings
from drkit.ha.drivers.dcs.etcd3_watch import changed, next_revision
from drkit.ha.drivers.dcs.memory import MemoryDCS
from tests.unit.ha.test_agent import Cluster

WAIT_S = 20.0


class WatchedDCS(MemoryDCS):
    """A memory DCS whose leader watch the test fires by hand."""

    on_change: Callable[[], None] | None = None
    stopped = False

    def watch_leader(self, on_change: Callable[[], None]) -> Callable[[], None]:
        self.on_change = on_change

        def stop() -> None:
            self.stopped = True

        return stop


def test_a_leader_change_ends_the_pause_and_the_watch_stops_with_the_loop() -> None:
    c = Cluster()
    agent = c.agents["west"]
    dcs = WatchedDCS(c.store, "c", ttl_s=8)
    agent.dcs = dcs
    agent.timings = AgentTimings(600.0, 0.01, 8.0, 1, 2)  # without a wake: one tick in 10 min
    agent.mono = time.monotonic
    ticks = threading.Semaphore(0)
    original = agent.tick

    def counted() -> object:
        result = original()
        ticks.release()
        return result

    agent.tick = counted  # type: ignore[method-assign]
    stop = threading.Event()
    loop = threading.Thread(target=agent.run, args=(stop,))
    loop.start()
    try:
        assert ticks.acquire(timeout=WAIT_S)
        assert dcs.on_change is not None
        assert not ticks.acquire(timeout=0.5)  # nothing changed: the agent waits
        dcs.on_change()
        assert ticks.acquire(timeout=WAIT_S), "the leader change did not wake the loop"
    finally:
        stop.set()
        loop.join(WAIT_S)
    assert not loop.is_alive()
    assert dcs.stopped


def test_resume_revision_after_creation_events_and_an_ended_watch() -> None:
    created = {"header": {"revision": "41"}, "created": True}
    assert next_revision(created, 0) == 42
    assert not changed(created)
    events = {"header": {"revision": "50"}, "events": [{"kv": {"mod_revision": "45"}}]}
    assert next_revision(events, 42) == 46
    assert changed(events)
    assert next_revision({"header": {"revision": "60"}}, 46) == 46  # progress: no move
    compacted = {"compact_revision": "70", "canceled": True}
    assert next_revision(compacted, 46) == 0  # watch again from now on
    assert changed(compacted)  # something may have changed unseen: wake up and read
