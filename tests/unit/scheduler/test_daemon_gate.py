"""The daemon behind the control-plane gate: standby starts nothing, takeover, slot claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus
from drkit.scheduler.claims import claim_slot
from drkit.scheduler.daemon import MAX_SLEEP_S, Daemon, Duty
from drkit.scheduler.slots import Trigger
from drkit.scheduler.state import load_slots, save_slot
from tests.unit.scheduler.test_daemon import JOB, START, Clock, GatedExecutor


@dataclass
class Gate:
    name: str
    open: bool = False

    def may_start(self) -> bool:
        return self.open


def gated(catalog: Catalog, name: str, clock: Clock) -> tuple[Daemon, GatedExecutor, Gate]:
    executor, gate = GatedExecutor(), Gate(name)
    executor.release.set()
    daemon = Daemon(catalog, [JOB], executor, clock=clock, gate=gate)  # type: ignore[arg-type]
    return daemon, executor, gate


def catalog_at(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def test_a_standby_decides_nothing_records_nothing_and_runs_no_active_duty(
    tmp_path: Path,
) -> None:
    catalog, clock = catalog_at(tmp_path), Clock(START)
    save_slot(catalog, JOB.id, START - timedelta(hours=1))
    ran: list[str] = []
    daemon, executor, _ = gated(catalog, "west", clock)
    daemon.duties = [
        Duty("monitor", timedelta(minutes=1), lambda: ran.append("monitor"), START, True),
        Duty("settings", timedelta(minutes=1), lambda: ran.append("settings"), START),
    ]
    assert daemon.tick(starting_up=True) == []
    assert executor.started == []
    assert load_slots(catalog)[JOB.id] == START - timedelta(hours=1)  # untouched
    assert ran == ["settings"]


def test_the_first_open_tick_takes_the_schedules_over_with_a_catch_up(tmp_path: Path) -> None:
    catalog, clock = catalog_at(tmp_path), Clock(START)
    save_slot(catalog, JOB.id, START - timedelta(minutes=7))  # 9:55 ran; 10:00 passed unrun
    daemon, executor, gate = gated(catalog, "west", clock)
    assert daemon.tick(starting_up=False) == []
    gate.open = True
    assert daemon.tick(starting_up=False) == [JOB]
    daemon.wait_idle()
    assert executor.started == [(JOB.id, Trigger.CATCH_UP, START.replace(minute=0))]
    assert daemon.tick(starting_up=False) == []  # and not twice


def test_two_open_gates_on_one_catalog_run_a_slot_once(tmp_path: Path) -> None:
    catalog, clock = catalog_at(tmp_path), Clock(START)
    save_slot(catalog, JOB.id, START - timedelta(minutes=7))
    east, east_runs, east_gate = gated(catalog, "east", clock)
    west, west_runs, west_gate = gated(catalog, "west", clock)
    east_gate.open = west_gate.open = True  # a mistaken double-active
    east._pending[JOB.id] = west._pending[JOB.id] = (JOB, _due(START.replace(minute=0)))
    east._launch_pending()
    west._launch_pending()
    east.wait_idle()
    west.wait_idle()
    assert len(east_runs.started) + len(west_runs.started) == 1
    assert east_runs.started  # the first claim won
    assert claim_slot(catalog, JOB.id, START.replace(minute=0), "west").holder == "east"


def test_a_gate_that_closes_before_launch_starts_nothing(tmp_path: Path) -> None:
    catalog, clock = catalog_at(tmp_path), Clock(START)
    daemon, executor, _ = gated(catalog, "east", clock)  # its gate stays shut
    daemon._pending[JOB.id] = (JOB, _due(START.replace(minute=0)))
    daemon._launch_pending()
    daemon.wait_idle()
    assert executor.started == []
    assert JOB.id not in load_slots(catalog)  # not recorded: the next active one runs it


def test_an_interrupted_slot_is_claimed_anew_for_its_rerun_once(tmp_path: Path) -> None:
    catalog = catalog_at(tmp_path)
    slot = START.replace(minute=0)
    assert claim_slot(catalog, JOB.id, slot, "east").won
    assert not claim_slot(catalog, JOB.id, slot, "west").won
    journal = RunJournal.start(catalog, kind="backup", job=JOB.id, scheduled_for=slot)
    journal.finish(RunStatus.INTERRUPTED)
    assert claim_slot(catalog, JOB.id, slot, "west").won
    assert not claim_slot(catalog, JOB.id, slot, "east").won


def test_a_stale_decision_for_an_older_slot_loses_to_a_newer_claim(tmp_path: Path) -> None:
    catalog = catalog_at(tmp_path)
    assert claim_slot(catalog, JOB.id, START.replace(minute=5), "west").won
    old = claim_slot(catalog, JOB.id, START.replace(minute=0), "east")
    assert (old.won, old.holder, old.newer) == (False, "west", START.replace(minute=5))
    assert "west claimed the newer 2026-11-24 10:05 slot already" in old.why_lost()
    assert claim_slot(catalog, JOB.id, START.replace(minute=10), "east").won


def _due(slot: object) -> object:
    from drkit.scheduler.slots import Decision

    return Decision(True, slot, Trigger.SCHEDULE, "due")  # type: ignore[arg-type]


def test_a_standby_sleeps_until_its_next_slot_not_on_the_overdue_active_duties(
    tmp_path: Path,
) -> None:
    catalog, clock = catalog_at(tmp_path), Clock(START)  # 10:02; the next */5 slot is 10:05
    daemon, _, gate = gated(catalog, "west", clock)
    daemon.duties = [Duty("monitor", timedelta(minutes=1), lambda: None, START, True)]
    assert daemon._sleep_seconds() == MAX_SLEEP_S  # (10:05 is further off than that)
    gate.open = True  # active: the overdue monitor is due now
    assert daemon._sleep_seconds() == 0.05
