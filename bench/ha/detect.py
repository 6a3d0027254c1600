"""drkit's split-brain detection figures, each site in its own network namespace.

    .venv/bin/python -m bench.ha.detect --trials 3 --output bench/results/ha-detect.json \
        --markdown bench/results/ha-detect.md

The partition scenarios' cluster (tests/fixtures/ha_netns.py) at drkit's default
timings. Per trial, a fresh pair and agents, east leading, then two acts behind
the agents' back:

- ``divergent-dns``: ``db.failover.test`` replaced by hand (RFC 2136, from the
  bridge) with west's address. Measured: from the update to the first
  ``divergent-dns`` trigger at the alert receiver (the agents' webhook), then,
  after the record is put back by hand, to its resolve.
- ``two-primaries``: ``pg_promote()`` on west's replica, the agents not paused.
  Measured: from the promotion's return to the first ``two-primaries`` trigger
  at the receiver, and to west's database read-only again (the quorum's choice:
  east holds the lease and the majority).

Every time is divided by the agent loop interval (target: under two loops).
The receiver is polled every 20 ms, so each figure includes the webhook's
delivery. Must run as root.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.ha import KEY_NAME, ZONE
from tests.fixtures.ha_netns import HaNetCluster, Scenario, ha_net_cluster
from tests.fixtures.netns import BRIDGE_NS

ACTS = ("divergent-dns", "two-primaries")
POLL_S = 0.02


def _hooks(s: Scenario, kind: str, action: str) -> list[dict[str, Any]]:
    found = []
    for request in s.cluster.receiver.requests[s.alerts_before :]:
        if not request.body:
            continue
        body = request.json()
        if body.get("action") == action and f":{kind}" in str(body.get("dedup_key", "")):
            found.append(body)
    return found


def _until(condition: Callable[[], bool], what: str, timeout: float) -> float:
    """Epoch seconds when ``condition`` first holds (polled every 20 ms)."""
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise RuntimeError(f"not reached in {timeout} s: {what}")
        time.sleep(POLL_S)
    return time.time()


def _set_dns(cluster: HaNetCluster, address: str) -> None:
    import dns.query
    import dns.tsigkeyring
    import dns.update

    ring = dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", cluster.knot.secret)})
    update = dns.update.Update(ZONE, keyring=ring)
    update.replace("db", 30, "A", address)
    with cluster.lab.entered(BRIDGE_NS):
        dns.query.tcp(update, cluster.knot.host, port=cluster.knot.port, timeout=5)


def divergent_dns(s: Scenario) -> dict[str, Any]:
    before = len(_hooks(s, "divergent-dns", "trigger"))
    _set_dns(s.cluster, s.lab.address("west"))
    acted = time.time()
    seen = _until(
        lambda: len(_hooks(s, "divergent-dns", "trigger")) > before,
        "a divergent-dns alert",
        timeout=30 * s.loop_s,
    )
    keys = {h["dedup_key"] for h in _hooks(s, "divergent-dns", "trigger")}
    resolves = len(_hooks(s, "divergent-dns", "resolve"))
    _set_dns(s.cluster, s.lab.address("east"))
    put_back = time.time()
    resolved = _until(
        lambda: len(_hooks(s, "divergent-dns", "resolve")) > resolves,
        "the divergent-dns alert resolved",
        timeout=30 * s.loop_s,
    )
    return {
        "act": "divergent-dns",
        "loop_s": s.loop_s,
        "alert_s": round(seen - acted, 2),
        "alert_loops": round((seen - acted) / s.loop_s, 2),
        "resolved_s": round(resolved - put_back, 2),
        "alert_keys": sorted(keys),
    }


def two_primaries(s: Scenario) -> dict[str, Any]:
    west = s.node("west")
    west.query("select pg_promote(true, 60)")
    acted = time.time()
    seen = _until(
        lambda: bool(_hooks(s, "two-primaries", "trigger")),
        "a two-primaries alert",
        timeout=30 * s.loop_s,
    )
    fenced = _until(lambda: not west.writable(), "west read-only again", timeout=90)
    s.wait_for(lambda: s.node("east").writable(), "east still the primary")
    time.sleep(3 * s.loop_s)  # let the other agents report too
    reporters = {h["dedup_key"].split(":")[2] for h in _hooks(s, "two-primaries", "trigger")}
    return {
        "act": "two-primaries",
        "loop_s": s.loop_s,
        "alert_s": round(seen - acted, 2),
        "alert_loops": round((seen - acted) / s.loop_s, 2),
        "west_read_only_s": round(fenced - acted, 2),
        "reported_by": sorted(reporters),
        "leader_after": s.leader(),
    }


def trial(cluster: HaNetCluster) -> list[dict[str, Any]]:
    with cluster.scenario(timings={}) as s:
        time.sleep(3 * s.loop_s)  # every agent past its first loops
        results = [divergent_dns(s)]
        time.sleep(2 * s.loop_s)
        results.append(two_primaries(s))
        return results


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| act | trials | loop s | act to first alert s | in loops | "
        "after: resolved s (DNS put back) / west read-only s (promotion) |",
        "|---|---:|---:|---|---|---|",
    ]
    for act in ACTS:
        rows = [r for r in results if r["act"] == act]
        if not rows:
            continue
        after = "resolved_s" if act == "divergent-dns" else "west_read_only_s"
        lines.append(
            f"| {act} | {len(rows)} | {rows[0]['loop_s']:g} | "
            f"{_spread([r['alert_s'] for r in rows])} | "
            f"{_spread([r['alert_loops'] for r in rows])} | "
            f"{_spread([r[after] for r in rows])} |"
        )
    return "\n".join(lines) + "\n\nmin / median / max over the trials.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ha.detect", description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="JSON of every trial")
    parser.add_argument("--markdown", type=Path, default=None, help="the table")
    options = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with ha_net_cluster() as cluster:
        for number in range(options.trials):
            for result in trial(cluster):
                print(f"trial {number + 1}: {json.dumps(result)}", flush=True)
                results.append(result)
    text = table(results)
    print(text)
    if options.output is not None:
        options.output.write_text(json.dumps(results, indent=2) + "\n")
    if options.markdown is not None:
        options.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
