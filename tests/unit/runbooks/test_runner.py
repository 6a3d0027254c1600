"""The runner with fake actions and a SQLite catalog: order, retries, timeouts, failure policies."""

from __future__ import annotations

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus
from tests.unit.runbooks.fakes import EVENTS, FAILURES, run


def test_steps_run_in_order_and_outputs_flow_to_later_steps(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: flow
inputs: {region: {default: eu}}
steps:
  - {id: a, action: fake.echo, with: {label: "a-${{ inputs.region }}", outputs: {lsn: "0/3"}}}
  - id: b
    action: fake.echo
    with: {label: "b-${{ steps.a.outputs.lsn }}"}
    outputs: {seen: "${{ result.lsn or 'none' }}", fine: "${{ steps.a.status == 'succeeded' }}"}
""",
    )
    assert ran.report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["a-eu", "b-0/3"]
    assert ran.statuses() == [("a", "succeeded"), ("b", "succeeded")]
    assert ran.step("a")[0]["outputs"] == {"lsn": "0/3"}
    assert ran.step("b")[0]["outputs"] == {"seen": "none", "fine": "true"}
    assert ran.view.subject == "flow" and ran.view.kind == "runbook"
    assert ran.view.subject_version == ran.report.version
    assert ran.view.result["inputs"] == {"region": "eu"}


def test_a_failing_step_is_retried_with_backoff_until_it_passes(catalog: Catalog) -> None:
    FAILURES["x"] = 2
    ran = run(
        catalog,
        """
name: retry
steps:
  - {id: x, action: fake.flaky, with: {label: x}, retries: {count: 3, backoff: 0.01, max: 0.02}}
""",
    )
    assert ran.report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["x", "x", "x"]
    (details,) = ran.step("x")
    assert details["attempts"] == 3
    assert "attempt 1 failed: x: not yet (2 to go); next in 0.01s" in ran.view.steps[0].output
    assert "attempt 2 failed" in ran.view.steps[0].output


def test_retries_run_out_and_the_step_fails_with_its_last_error(catalog: Catalog) -> None:
    FAILURES["x"] = 5
    ran = run(
        catalog,
        """
name: r
steps:
  - {id: x, action: fake.flaky, with: {label: x}, retries: {count: 1, backoff: 0}}
""",
    )
    assert ran.report.status is RunStatus.FAILED
    assert EVENTS == ["x", "x"]
    assert ran.view.steps[0].error == "x: not yet (4 to go)"
    assert ran.report.failed_step == "x"


def test_an_attempt_past_its_timeout_is_stopped_and_fails(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: slow
steps:
  - {id: s, action: fake.sleep, with: {label: s, seconds: 30}, timeout: 0.2}
  - {id: after, action: fake.echo, with: {label: after}}
""",
    )
    assert ran.report.status is RunStatus.FAILED
    assert ran.view.steps[0].error == "timed out after 0.2s"
    assert "s:stopped" in EVENTS  # the action saw ctx.cancelled() and stopped
    assert "after" not in EVENTS


def test_on_failure_continue_goes_on_and_the_run_succeeds(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: cont
steps:
  - {id: a, action: fake.fail, with: {label: a}, on_failure: continue}
  - {id: b, action: fake.echo, with: {label: b}, when: "steps.a.status == 'failed'"}
""",
    )
    assert ran.report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["a", "b"]
    assert ran.statuses() == [("a", "failed"), ("b", "succeeded")]
    assert ran.view.steps[0].error == "it broke (hint: fix it)"


def test_abort_stops_the_run_at_the_failed_step(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: abort
steps:
  - {id: a, action: fake.echo, with: {label: a}}
  - {id: b, action: fake.fail, with: {label: b, message: down}}
  - {id: c, action: fake.echo, with: {label: c}}
""",
    )
    assert ran.report.status is RunStatus.FAILED
    assert ran.report.error == "step 'b' failed: down (hint: fix it)"
    assert EVENTS == ["a", "b"]
    assert ran.view.status is RunStatus.FAILED and ran.view.error == ran.report.error


def test_when_false_skips_the_step_and_journals_it_as_skipped(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: when
inputs: {mode: {default: drill}}
steps:
  - {id: detect, action: fake.echo, with: {label: detect, outputs: {primary_down: "false"}}}
  - id: promote
    action: fake.echo
    with: {label: promote}
    when: "steps.detect.outputs.primary_down == 'true' and inputs.mode != 'drill'"
  - {id: tail, action: fake.echo, with: {label: tail}, when: "steps.promote.status == 'skipped'"}
""",
    )
    assert EVENTS == ["detect", "tail"]
    assert ran.statuses() == [
        ("detect", "succeeded"),
        ("promote", "skipped"),
        ("tail", "succeeded"),
    ]


def test_goto_jumps_back_and_the_loop_ends_when_the_step_passes(catalog: Catalog) -> None:
    FAILURES["check"] = 2
    ran = run(
        catalog,
        """
name: loop
steps:
  - {id: fix, action: fake.echo, with: {label: fix}}
  - {id: check, action: fake.flaky, with: {label: check}, on_failure: "goto:fix"}
  - {id: done, action: fake.echo, with: {label: done}}
""",
    )
    assert ran.report.status is RunStatus.SUCCEEDED
    assert EVENTS == ["fix", "check", "fix", "check", "fix", "check", "done"]
    assert [n for n, _ in ran.statuses()] == ["fix", "check"] * 3 + ["done"]


def test_rollback_undoes_the_failing_step_then_completed_steps_newest_first(
    catalog: Catalog,
) -> None:
    ran = run(
        catalog,
        """
name: rb
steps:
  - id: one
    action: fake.echo
    with: {label: one}
    rollback: [{id: undo-one, action: fake.echo, with: {label: undo-one}}]
  - {id: two, action: fake.echo, with: {label: two}}
  - id: three
    action: fake.echo
    with: {label: three}
    rollback:
      - {id: undo-three-a, action: fake.echo, with: {label: undo-three-a}}
      - {id: undo-three-b, action: fake.echo, with: {label: undo-three-b}}
  - id: four
    action: fake.fail
    with: {label: four}
    on_failure: rollback
    rollback: [{id: undo-four, action: fake.echo, with: {label: undo-four}}]
  - {id: five, action: fake.echo, with: {label: five}}
""",
    )
    # the failing step may have done part of its work (a half-finished restore): undone first
    undo = ["undo-four", "undo-three-a", "undo-three-b", "undo-one"]
    assert ["one", "two", "three", "four", *undo] == EVENTS
    assert ran.report.status is RunStatus.FAILED and ran.report.rolled_back
    assert ran.view.result["rolled_back"] is True
    phases = [(s.name, s.details["phase"]) for s in ran.view.steps[-4:]]
    assert phases == [(name, "rollback") for name in undo]


def test_a_failing_rollback_step_with_continue_lets_the_rollback_go_on(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: rb2
steps:
  - id: one
    action: fake.echo
    with: {label: one}
    rollback: [{id: u1, action: fake.echo, with: {label: u1}}]
  - id: two
    action: fake.echo
    with: {label: two}
    rollback: [{id: u2, action: fake.fail, with: {label: u2}, on_failure: continue}]
  - {id: boom, action: fake.fail, with: {label: boom}, on_failure: rollback}
""",
    )
    assert EVENTS == ["one", "two", "boom", "u2", "u1"]
    assert ran.view.result["rollback_failed"] == ["u2"]


def test_parallel_members_run_at_the_same_time(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: par
steps:
  - id: group
    parallel:
      - {id: p1, action: fake.sleep, with: {label: p1, seconds: 0.3}}
      - {id: p2, action: fake.sleep, with: {label: p2, seconds: 0.3}}
      - {id: p3, action: fake.echo, with: {label: p3, outputs: {k: v}}}
  - {id: after, action: fake.echo, with: {label: "after-${{ steps.p3.outputs.k }}"}}
""",
    )
    assert ran.report.status is RunStatus.SUCCEEDED
    # both sleepers started before either ended: they overlapped
    assert EVENTS.index("p2:start") < EVENTS.index("p1:end")
    assert EVENTS.index("p1:start") < EVENTS.index("p2:end")
    assert EVENTS[-1] == "after-v"
    rows = {s.name: s for s in ran.view.steps}
    assert rows["p1"].details["group"] == "group" and rows["group"].status.value == "succeeded"
    assert rows["group"].finished_at is not None and rows["p1"].finished_at is not None
    assert rows["group"].finished_at >= rows["p1"].finished_at


def test_a_failed_member_fails_the_group_unless_it_may_continue(catalog: Catalog) -> None:
    ran = run(
        catalog,
        """
name: par2
steps:
  - id: group
    on_failure: continue
    parallel:
      - {id: ok, action: fake.echo, with: {label: ok}}
      - {id: soft, action: fake.fail, with: {label: soft}, on_failure: continue}
      - {id: hard, action: fake.fail, with: {label: hard, message: hard down}}
  - {id: after, action: fake.echo, with: {label: after}}
""",
    )
    rows = {s.name: s for s in ran.view.steps}
    assert rows["group"].status.value == "failed"
    assert rows["group"].error == "hard: hard down (hint: fix it)"
    assert ran.report.status is RunStatus.SUCCEEDED  # the group's own on_failure: continue
    assert "after" in EVENTS
