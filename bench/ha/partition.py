"""drkit's partition figures, each site in its own network namespace.

    .venv/bin/python -m bench.ha.partition --trials 3 --markdown bench/results/ha-partition.md

The cluster of the partition scenarios (tests/fixtures/ha_netns.py: etcd member,
PostgreSQL, HAProxy and ``drkit agent`` per site, Knot and the alert receiver
on the bridge) with drkit at its default timings. Per trial: a fresh pair and
agents; the client writes one row every 100 ms to both sites' load balancers
and east's own app writes through east's; after the writes are steady, east is
cut off (``link``: its link down; ``drop``: everything arriving silently
dropped). Measured from the cut: when east's database stops taking writes
(seen from inside east), when west takes its first write, the two-primary window
(east's last acknowledgement after west's first, 0 when none), and the writes
east acknowledged after west's first (target: 0). ``asymmetric``: west and the
witness can no longer open connections to east, east still reaches them and
etcd; the quorum's side (west) must take over, measured the same way.

The partitions that must move nothing, held 1.5 leases each: ``witness`` (its
link down), ``replica`` (west's link down). Measured: failovers (target 0), the
longest gap between two of east's acknowledged writes during the fault (the
client writes every 100 ms), and the alerts that name the fault.

The history checker (tests/fixtures/ha_history.py) runs over every trial.
Must run as root.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fixtures.ha_history import check_history, figures
from tests.fixtures.ha_netns import HaNetCluster, ha_net_cluster
from tests.integration.ha.partitions.steps import (
    cut,
    mark_durable,
    start_writing,
    wait_failover_to,
    wait_fenced,
)

from drkit.catalog.runs import get_run

FAILOVER_KINDS = ("link", "drop", "asymmetric")
STILL_KINDS = ("witness", "replica")
KINDS = FAILOVER_KINDS + STILL_KINDS


def trial(cluster: HaNetCluster, kind: str) -> dict[str, Any]:
    if kind in STILL_KINDS:
        return still_trial(cluster, kind)
    with cluster.scenario(timings={}) as s:
        run = start_writing(s)
        time.sleep(2.0)
        if kind == "asymmetric":
            mark_durable(run)
            run.cut_at = time.time()
            s.lab.refuse_from("east", "west")
            s.lab.refuse_from("east", "witness")
        else:
            cut(run, kind)
        assert run.cut_at is not None
        fence_s = wait_fenced(run)
        record = wait_failover_to(run, "west")
        promoted_s = time.time() - run.cut_at
        journal = get_run(s.catalog, int(str(record["note"]).removeprefix("run ")))
        s.lab.heal()
        time.sleep(2.0)
        acks = s.stop_clients()
        present = {int(r[0]) for r in s.node("west").query("select seq from hist")}
        seen = figures(acks, run.cut_at, "east", "west")
        west_first = seen.first_ack_after.get("west")
        east_last = seen.last_ack.get("east", run.cut_at)
        window = 0.0 if west_first is None else max(0.0, east_last - west_first)
        violations = check_history(
            acks, present, survivor="west", durable_before=run.durable_before
        )
        return {
            "kind": kind,
            "lease_ttl_s": s.lease_ttl_s,
            "fence_s": round(fence_s, 2),
            "first_west_write_s": None if west_first is None else round(west_first - run.cut_at, 2),
            "promotion_seen_s": round(promoted_s, 2),
            "two_primary_window_s": round(window, 2),
            "east_acks_after_west_first": seen.acks_by_fenced_after_new_first,
            "east_last_ack_after_cut_s": round(east_last - run.cut_at, 2),
            "failover_started_s": round(_epoch(journal.started_at) - run.cut_at, 2),
            "runbook_s": journal.duration_s,
            "steps_s": {step.name: step.duration_s for step in journal.steps},
            "violations": [str(v) for v in violations],
        }


def still_trial(cluster: HaNetCluster, kind: str) -> dict[str, Any]:
    """A partition that must move nothing: held 1.5 leases, then healed."""
    site = "witness" if kind == "witness" else "west"
    with cluster.scenario(timings={}) as s:
        run = start_writing(s, local_east=False)
        time.sleep(2.0)
        mark_durable(run)
        cut_at = time.time()
        s.lab.link_down(site)
        time.sleep(1.5 * s.lease_ttl_s)
        healed_at = time.time()
        leader, history, alerts = s.leader(), s.history(), s.alerts()
        s.lab.heal()
        time.sleep(2.0)
        acks = s.stop_clients()
        present = {int(r[0]) for r in s.node("east").query("select seq from hist")}
        during = sorted(a.at for a in acks if a.site == "east" and cut_at <= a.at <= healed_at)
        gaps = [b - a for a, b in zip([cut_at, *during], [*during, healed_at], strict=True)]
        violations = check_history(
            acks, present, survivor="east", durable_before=run.durable_before
        )
        return {
            "kind": kind,
            "lease_ttl_s": s.lease_ttl_s,
            "held_s": round(healed_at - cut_at, 2),
            "leader_at_end": leader,
            "failovers": len(history),
            "east_acks_during": len(during),
            "longest_east_gap_s": round(max(gaps), 2),
            "alerts": [a for a in alerts if site in a],
            "violations": [str(v) for v in violations],
        }


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def table(results: list[dict[str, Any]]) -> str:
    """The failover partitions' table, then the table of those that must move nothing."""
    moved = [r for r in results if r["kind"] in FAILOVER_KINDS]
    still = [r for r in results if r["kind"] in STILL_KINDS]
    parts = ([_failover_table(moved)] if moved else []) + ([_still_table(still)] if still else [])
    return "\n".join(parts)


def _failover_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| cut | trials | cut to east fenced s | cut to failover start s | failover runbook s "
        "| cut to west's first write s | two-primary window s | east acks after west's first "
        "| history violations |",
        "|---|---:|---|---|---|---|---|---:|---:|",
    ]
    for kind in FAILOVER_KINDS:
        rows = [r for r in results if r["kind"] == kind]
        if not rows:
            continue
        first = [r["first_west_write_s"] for r in rows if r["first_west_write_s"] is not None]
        lines.append(
            f"| {kind} | {len(rows)} | {_spread([r['fence_s'] for r in rows])} | "
            f"{_spread([r['failover_started_s'] for r in rows])} | "
            f"{_spread([r['runbook_s'] or 0.0 for r in rows])} | {_spread(first)} | "
            f"{_spread([r['two_primary_window_s'] for r in rows])} | "
            f"{sum(r['east_acks_after_west_first'] for r in rows)} | "
            f"{sum(len(r['violations']) for r in rows)} |"
        )
    return "\n".join(lines) + "\n"


def _still_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| isolated | trials | held s | failovers | primary at the end | longest gap in east's "
        "writes s | history violations |",
        "|---|---:|---|---:|---|---|---:|",
    ]
    for kind in STILL_KINDS:
        rows = [r for r in results if r["kind"] == kind]
        if not rows:
            continue
        leaders = sorted({str(r["leader_at_end"]) for r in rows})
        lines.append(
            f"| {kind} | {len(rows)} | {_spread([r['held_s'] for r in rows])} | "
            f"{sum(r['failovers'] for r in rows)} | {', '.join(leaders)} | "
            f"{_spread([r['longest_east_gap_s'] for r in rows])} | "
            f"{sum(len(r['violations']) for r in rows)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ha.partition", description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--output", type=Path, default=None, help="JSON of every trial")
    parser.add_argument("--markdown", type=Path, default=None, help="the table")
    options = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with ha_net_cluster() as cluster:
        kinds = [k for k in options.kinds.split(",") if k]
        for kind in kinds:
            if kind not in KINDS:
                parser.error(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        for kind in kinds:
            for number in range(options.trials):
                result = trial(cluster, kind)
                print(f"{kind} trial {number + 1}: {json.dumps(result)}", flush=True)
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
