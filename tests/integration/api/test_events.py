"""A running run's journal as server-sent events, live and through a reconnect.

The backup (64 MiB in 32 files, a real repository) first waits for a lock the
test holds, so the stream is opened while the run is surely running; the
lock's release lets it go on while the stream is read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from drkit.repository.locks import RepoLock
from tests.integration.api.conftest import Api
from tests.integration.api.test_launch import finished, home, started

__all__ = ["home"]  # the module fixture of test_launch: a home with two repositories


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The events of an open text/event-stream response, one dict per event."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "event" in event:
                yield event
            event = {}
            continue
        field, _, value = line.partition(": ")
        if field in ("id", "event"):
            event[field] = value
        elif field == "data":
            event["data"] = json.loads(value)


def _slow_source(root: Path) -> None:
    big = root / "src" / "big"
    big.mkdir(exist_ok=True)
    for i in range(32):
        (big / f"part{i:02}").write_bytes(os.urandom(2 * 1024 * 1024))


def test_a_running_backup_streams_its_journal_and_resumes_after_a_reconnect(home: Api) -> None:
    _slow_source(home.root)
    ws = home.workspace.child()
    first: list[dict[str, Any]] = []
    with home.client("operator") as c:
        lock = RepoLock(ws.open_named("local"), exclusive=True, operation="prune")
        lock.acquire()
        try:
            url = started(c.post("/api/policies/app/backup", json={"wait_lock": 300}))
            assert c.get(url).json()["status"] == "running"
            with c.stream("GET", f"{url}/events") as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                lock.release()
                for event in events(r):
                    first.append(event)
                    if event["event"] == "step-started":
                        break  # the client goes away in the middle of the run
            last = first[-1]["id"]
            with c.stream("GET", f"{url}/events", headers={"Last-Event-ID": last}) as r:
                rest = list(events(r))
        finally:
            if lock.lock_id is not None:
                lock.release()
            ws.close()
    assert first[0]["event"] == "progress"  # live: the run's in-process report, no id
    assert "id" not in first[0]
    numbered = [e for e in first + rest if "id" in e]
    ids = [int(e["id"]) for e in numbered]
    assert ids == list(range(1, len(ids) + 1)), ids  # nothing lost, nothing twice
    assert rest[-1]["event"] == "end"
    run = finished(home, url)
    assert rest[-1]["data"] == run and run["status"] == "succeeded"
    ended = [e["data"] for e in numbered if e["event"] == "step-ended"]
    assert [s["seq"] for s in ended] == [s["seq"] for s in run["steps"]]
    assert ended[-1]["details"]["done"] >= 64 * 1024 * 1024  # the bytes the backup read


def test_a_finished_run_replays_whole_and_a_reconnect_after_the_end_gets_the_end(
    home: Api,
) -> None:
    with home.client("operator") as c:
        url = started(c.post("/api/policies/app/backup"))
    run = finished(home, url)
    with home.client("viewer") as c:
        with c.stream("GET", f"{url}/events") as r:
            replay = list(events(r))
        end_id = replay[-1]["id"]
        with c.stream("GET", f"{url}/events", headers={"Last-Event-ID": end_id}) as r:
            after = list(events(r))
        missing = c.get("/api/runs/999999/events")
    assert [e["event"] for e in replay][-1] == "end" and replay[-1]["data"] == run
    assert len([e for e in replay if e["event"] == "step-started"]) == len(run["steps"])
    assert [e["event"] for e in after] == ["end"]
    assert missing.status_code == 404 and missing.json()["code"] == "run-not-found"
