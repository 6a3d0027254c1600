"""Steps the partition scenarios share: write, cut, watch the fence, heal, check the history.

The bounds come from the scenario's settings, never from a wall-clock constant:
the old primary must have stopped taking writes before its lease can expire
anywhere else (the cut + ``lease_ttl_s``: its last renewal was before the cut),
give or take :data:`MARGIN_LOOPS` agent loops for the observation itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import psycopg

from drkit.catalog.runs import RunStatus, get_run
from tests.fixtures.ha_client import CREATE
from tests.fixtures.ha_history import Ack, Fence, assert_history
from tests.fixtures.ha_netns import Scenario

MARGIN_LOOPS = 1
"""The stated margin of the fence deadline: one agent loop (polling and client delivery)."""


@dataclass
class Run:
    """One scenario's writing: clients, the instants that matter, the acknowledgements."""

    scenario: Scenario
    t0: float = 0.0
    durable_before: float | None = None
    cut_at: float | None = None
    acks: list[Ack] = field(default_factory=list)

    @property
    def margin_s(self) -> float:
        return MARGIN_LOOPS * self.scenario.loop_s

    @property
    def fence_deadline(self) -> float:
        assert self.cut_at is not None
        return self.cut_at + self.scenario.lease_ttl_s + self.margin_s


def start_writing(scenario: Scenario, *, local_east: bool = True) -> Run:
    """The client (both load balancers) and, in east itself, east's own app writer."""
    scenario.node("east").query(CREATE)
    scenario.pair.wait_replicated()
    run = Run(scenario, t0=time.time() + 1.0)
    both = {site: scenario.lb_address(site) for site in ("east", "west")}
    scenario.start_client("client", "client", both, run.t0)
    if local_east:
        scenario.start_client("east-app", "east", {"east": both["east"]}, run.t0)
    scenario.wait_for(lambda: _acked(scenario, "east") >= 20, "20 writes acknowledged by east")
    return run


def _acked(scenario: Scenario, site: str, since: float = 0.0) -> int:
    """Writes ``site``'s database acknowledged to the client, answered after ``since``."""
    path = scenario.folder / "client-client.jsonl"
    if not path.exists():
        return 0
    server = scenario.lab.address(site)
    count = 0
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line the client is still writing
            continue
        if record.get("server") == server and float(record.get("end", 0.0)) > since:
            count += 1
    return count


def _rows(s: Scenario, site: str) -> set[int]:
    """The rows ``site`` holds; a few tries, as a loaded machine can miss a 3 s connect."""
    for attempt in range(5):
        try:
            return {int(r[0]) for r in s.node(site).query("select seq from hist")}
        except psycopg.OperationalError:
            if attempt == 4:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def mark_durable(run: Run) -> None:
    """Rows acknowledged up to now are on the replica (asynchronous mode may lose later ones)."""
    run.durable_before = time.time()
    run.scenario.pair.wait_replicated()


def cut(run: Run, how: str, site: str = "east") -> None:
    mark_durable(run)
    run.cut_at = time.time()
    if how == "link":
        run.scenario.lab.link_down(site)
    elif how == "drop":
        run.scenario.lab.drop(site)
    else:
        raise ValueError(how)


def wait_fenced(run: Run, site: str = "east") -> float:
    """Seconds from the cut until the site's database stops taking writes (seen from inside)."""
    assert run.cut_at is not None
    node = run.scenario.node(site)
    limit = run.cut_at + 3 * run.scenario.lease_ttl_s
    while node.writable():
        assert time.time() < limit, f"{site} still writable:\n{run.scenario.describe()}"
        time.sleep(0.05)
    return time.time() - run.cut_at


def wait_failover_to(run: Run, site: str) -> dict[str, object]:
    """Wait until ``site`` leads, has a failover in the history and takes writes; the record."""
    s = run.scenario
    s.wait_for(
        lambda: s.leader() == site and bool(s.history()) and s.node(site).writable(),
        f"a failover to {site}",
        timeout=6 * s.lease_ttl_s,
    )
    (record,) = s.history()
    return dict(record)


def assert_journal(run: Run, record: dict[str, object], old: str, new: str) -> None:
    """The failover is a succeeded run in the catalog, from ``old`` to ``new``."""
    assert (record["from"], record["to"], record["kind"]) == (old, new, "failover")
    journal = get_run(run.scenario.catalog, int(str(record["note"]).removeprefix("run ")))
    assert journal.status is RunStatus.SUCCEEDED, journal


def heal_and_check(
    run: Run, survivor: str, *, fenced: str | None = "east", keep_all: bool = False
) -> None:
    """Heal, let the survivor take writes a little longer, stop the clients, check the history."""
    s = run.scenario
    s.lab.heal()
    healed = time.time()
    settle = healed + 2 * s.loop_s
    s.wait_for(
        lambda: time.time() > settle and _acked(s, survivor, since=healed) > 0,
        f"writes acknowledged by {survivor} after the heal",
    )
    run.acks = s.stop_clients()
    present = _rows(s, survivor)
    fences = [Fence(fenced, run.fence_deadline)] if fenced is not None else []
    assert any(a.site == survivor for a in run.acks)
    assert_history(
        run.acks,
        present,
        survivor=survivor,
        fences=fences,
        durable_before=run.durable_before,
        keep_all=keep_all,
    )
