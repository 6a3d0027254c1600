"""Trend of recovery times, per-step timings from journals, and dry-run plans."""

from __future__ import annotations

import statistics

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus
from drkit.runbooks import guide
from drkit.runbooks.durations import duration_text
from drkit.runbooks.model import Runbook
from drkit.runbooks.plan import ItemKind, plan
from drkit.runbooks.service import RunRequest, rerun
from drkit.runbooks.stats import Trend, collect, trend
from drkit.settings.model import Settings
from tests.unit.runbooks.fakes import EVENTS, FAILURES, run, runbook


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ([], Trend.UNKNOWN),
        ([10, 9, 8], Trend.UNKNOWN),
        ([100, 100, 50, 50], Trend.IMPROVING),
        ([50, 50, 100, 100], Trend.WORSE),
        ([100, 95, 104, 98], Trend.STABLE),
        ([100, 100, 100, 91, 91], Trend.STABLE),  # -9%: within the margin
        ([100, 100, 100, 89, 89], Trend.IMPROVING),  # -11%
        ([0, 0, 1, 1], Trend.UNKNOWN),
    ],
)
def test_trend_compares_the_older_and_newer_halves(totals: list[float], expected: Trend) -> None:
    assert trend(totals) is expected


TIMED = """
name: timed
rto: 1h
steps:
  - {id: a, action: fake.sleep, with: {label: a, seconds: 0.05}}
  - {id: b, action: fake.flaky, with: {label: b}, retries: {count: 2, backoff: 0}}
"""


def test_stats_report_each_run_and_each_step_against_the_rto(catalog: Catalog) -> None:
    first = run(catalog, TIMED)
    FAILURES["b"] = 5
    failed = run(catalog, TIMED)
    assert failed.report.status is RunStatus.FAILED
    found = collect(catalog, "timed", rto_s=3600)
    assert [r.run_id for r in found.runs] == [failed.report.run_id, first.report.run_id]
    newest, oldest = found.runs
    assert oldest.rto_met is True and newest.rto_met is False  # a failed run misses the RTO
    assert oldest.steps["a"] >= 0.05
    assert set(found.step_medians()) == {"a", "b"}  # from the succeeded run only
    assert found.median_total_s == oldest.total_s
    assert found.trend is Trend.UNKNOWN
    assert found.as_json()["runs"][1]["steps"]["a"] >= 0.05
    assert collect(catalog, "timed", kinds=("drill",)).runs == ()


def test_partial_reruns_are_marked_and_kept_out_of_totals_trend_and_guide(
    catalog: Catalog,
) -> None:
    book = runbook(TIMED)

    def load(name: str, version: str) -> Runbook:
        return book

    full = [run(catalog, TIMED).report.run_id for _ in range(4)]
    partial = [
        rerun(catalog, full[-1], "b", load, Settings(), RunRequest(poll_s=0.02)).run_id
        for _ in range(2)
    ]
    again = rerun(catalog, full[-1], "a", load, Settings(), RunRequest(poll_s=0.02)).run_id
    found = collect(catalog, "timed", rto_s=3600)
    by_id = {r.run_id: r for r in found.runs}
    assert [by_id[i].partial for i in partial] == [True, True]
    assert by_id[partial[0]].from_step == "b" and not by_id[partial[0]].counted
    assert not by_id[again].partial  # from the first step: every step ran again
    assert found.counted_runs == 5
    full_totals = [by_id[i].total_s for i in (*full, again)]
    assert found.median_total_s == statistics.median(full_totals)
    assert found.trend is trend(full_totals)
    assert found.as_json()["runs"][0]["partial"] is False  # newest: the full re-run
    assert {r["run_id"] for r in found.as_json()["runs"] if r["partial"]} == set(partial)
    # the reused step a of a partial run is not a timing; its own b is
    assert "a" not in by_id[partial[0]].steps and "b" in by_id[partial[0]].steps
    expected = found.expected()
    assert (expected.total_s, expected.runs) == (found.median_total_s, 5)
    text = guide.markdown(book, expected)
    assert f"expected total: about {duration_text(found.median_total_s)}" in text
    assert "(median of 5 full runs)" in text


def test_a_dry_run_plan_describes_without_running() -> None:
    book = runbook(
        """
name: plan
inputs: {site: {default: b}}
steps:
  - {id: start, action: shell, with: {command: "start ${{ inputs.site }}"}, timeout: 90}
  - id: apps
    parallel:
      - {id: app1, action: fake.echo, with: {label: "${{ steps.start.outputs.stdout }}"}}
      - {id: app2, action: fake.echo, with: {label: x}, retries: {count: 1}}
    on_failure: rollback
    rollback: [{id: stop, action: shell, with: {command: stop}}]
  - {id: ok, manual: {prompt: "Done in ${{ inputs.site }}?"}, when: "inputs.site == 'b'"}
"""
    )
    items = plan(book, {"site": "c"})
    assert [i.number for i in items] == ["1", "2", "3"]
    assert items[0].does == "run `start c`" and items[0].conditions == ["timeout 1m30s"]
    assert [m.number for m in items[1].members] == ["2.1", "2.2"]
    assert items[1].members[1].conditions == ["1 retry"]
    assert items[1].rollback[0].number == "2.R1"
    assert items[1].conditions == ["on failure: rollback"]
    assert items[2].kind is ItemKind.MANUAL
    assert items[2].does == "wait for approval: Done in c?"
    assert items[2].conditions == ["only if inputs.site == 'b'"]
    assert "${{ steps.start.outputs.stdout }}" in items[1].members[0].does
    assert EVENTS == []
