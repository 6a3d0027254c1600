"""The partition scenarios' history checker (tests/fixtures/ha_history.py) on hand-made histories:
a clean one passes, and each broken rule is caught with its row and evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.ha_history import (
    Ack,
    Fence,
    assert_history,
    check_history,
    figures,
    load_history,
)

CUT = 100.0
# east acknowledges rows 1-10 (one per 100 ms up to the cut), west 15-20 after the failover
CLEAN = [Ack(n, "east", 99.0 + n / 10) for n in range(1, 11)] + [
    Ack(n, "west", 110.0 + n / 10) for n in range(15, 21)
]
ROWS = set(range(1, 11)) | set(range(15, 21))
FENCED = Fence("east", CUT + 8.5)


def rules(acks: list[Ack], present: set[int], **promises: object) -> list[tuple[str, int]]:
    found = check_history(acks, present, survivor="west", **promises)  # type: ignore[arg-type]
    return [(v.rule, v.seq) for v in found]


def test_a_clean_history_passes() -> None:
    assert rules(CLEAN, ROWS, fences=[FENCED], durable_before=CUT) == []
    assert_history(CLEAN, ROWS, survivor="west", fences=[FENCED], keep_all=True)


def test_a_row_acknowledged_by_the_survivor_and_missing_is_lost() -> None:
    assert rules(CLEAN, ROWS - {17}) == [("lost", 17)]


def test_a_row_acknowledged_before_the_durable_instant_and_missing_is_lost() -> None:
    assert rules(CLEAN, ROWS - {3}, durable_before=CUT) == [("lost", 3)]


def test_a_row_of_the_old_primary_after_the_durable_instant_may_be_lost_when_asynchronous() -> None:
    assert rules(CLEAN, ROWS - {10}, durable_before=99.5) == []
    assert rules(CLEAN, ROWS - {10}, durable_before=99.5, keep_all=True) == [("lost", 10)]


def test_one_row_acknowledged_by_two_primaries_fails() -> None:
    broken = [*CLEAN, Ack(16, "east", 111.6)]
    assert rules(broken, ROWS) == [("two primaries", 16)]


def test_an_acknowledgement_from_the_fenced_side_after_its_deadline_fails() -> None:
    late = [*CLEAN, Ack(12, "east", FENCED.deadline + 0.01)]
    assert rules(late, ROWS | {12}, fences=[FENCED]) == [("fenced late", 12)]
    # the same write inside the deadline is allowed
    early = [*CLEAN, Ack(12, "east", FENCED.deadline - 0.01)]
    assert rules(early, ROWS | {12}, fences=[FENCED]) == []


def test_assert_history_lists_every_violation() -> None:
    broken = [*CLEAN, Ack(16, "east", 200.0)]
    with pytest.raises(AssertionError) as failed:
        assert_history(broken, ROWS - {15}, survivor="west", fences=[FENCED])
    text = str(failed.value)
    assert "3 violations" in text
    assert "lost: row 15" in text
    assert "two primaries: row 16" in text
    assert "fenced late: row 16" in text


def test_figures_count_the_old_primarys_writes_after_the_new_ones_first() -> None:
    assert figures(CLEAN, CUT, "east", "west").acks_by_fenced_after_new_first == 0
    overlap = [*CLEAN, Ack(16, "east", 111.65), Ack(17, "east", 111.75)]
    seen = figures(overlap, CUT, "east", "west")
    assert seen.acks_by_fenced_after_new_first == 2
    assert seen.first_ack_after["west"] == pytest.approx(111.5)
    assert seen.last_ack["east"] == pytest.approx(111.75)


def test_load_history_keeps_only_acknowledged_writes(tmp_path: Path) -> None:
    log = tmp_path / "client-client.jsonl"
    records = [
        {"seq": 1, "target": "east", "start": 1.0, "end": 1.01, "ok": True, "server": "10.0.0.1"},
        {"seq": 2, "target": "west", "start": 1.1, "end": 3.1, "ok": False, "server": None},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    names = {"10.0.0.1": "east"}
    assert load_history(log, names.__getitem__) == [Ack(1, "east", 1.01, "client")]
