"""A run's journal as server-sent events (text/event-stream), live while it runs.

Every journal entry (a step started, a step ended) is an event with an id:
its place among the run's entries in time order, which stays the same for
the life of the run, since entries are only ever added after the others. A
client that reconnects with ``Last-Event-ID`` gets the entries after that
one, then the stream goes on. Between entries, ``progress`` events (no id:
they are not replayed) carry the latest report of an operation this process
runs. The last event, ``end``, carries the finished run, as
``GET /api/runs/{id}`` answers it, and the stream closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, RunView, StepView, get_run
from drkit.services.launch import Launcher, as_json

POLL_S = 0.25
KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class Entry:
    """One journal entry: a step's start or its end."""

    at: datetime
    kind: str  # step-started, step-ended
    step: StepView

    def data(self) -> dict[str, Any]:
        doc: dict[str, Any] = as_json(self.step.to_json())
        if self.kind == "step-started":
            doc = {k: doc[k] for k in ("seq", "name", "started_at")} | {"status": "running"}
        return doc


def entries(run: RunView) -> list[Entry]:
    """The run's entries in the order they happened (ties: starts first, then by step)."""
    found = [Entry(s.started_at, "step-started", s) for s in run.steps]
    found += [Entry(s.finished_at, "step-ended", s) for s in run.steps if s.finished_at]
    return sorted(found, key=lambda e: (e.at, e.kind != "step-started", e.step.seq))


def frame(event: str, data: Any, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


def parse_last_id(header: str | None) -> int:
    """The last entry the client has (0: none); anything else than a number is none."""
    return int(header) if header and header.strip().isdigit() else 0


async def stream(
    catalog: Catalog,
    run_id: int,
    after: int,
    launcher: Launcher | None,
    disconnected: Any,
) -> AsyncIterator[str]:
    """The events of run ``run_id`` after entry ``after``, until it ends."""
    sent, progress_seq, idle = after, -1, 0.0
    yield "retry: 1000\n\n"
    while True:
        run = await run_in_threadpool(get_run, catalog, run_id)
        done = run.status is not RunStatus.RUNNING
        for number, entry in enumerate(entries(run), start=1):
            if number > sent:
                yield frame(entry.kind, entry.data(), number)
                sent, idle = number, 0.0
        if done:
            yield frame("end", as_json(run.to_json()), sent + 1)
            return
        live = launcher.live(run_id) if launcher is not None else None
        if live is not None and live.seq != progress_seq:
            progress_seq, idle = live.seq, 0.0
            yield frame("progress", {"phase": live.phase, "done": live.done, "total": live.total})
        if idle >= KEEPALIVE_S:
            yield ": keepalive\n\n"
            idle = 0.0
        if await disconnected():
            return
        await asyncio.sleep(POLL_S)
        idle += POLL_S
