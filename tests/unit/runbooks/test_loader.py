"""Loading runbook files: every problem reported at file:line, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.loader import load_runbook, parse_runbook


def _problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "rb.yaml"
    path.write_text(text)
    with pytest.raises(RunbookInvalid) as caught:
        load_runbook(path)
    return [line.replace(f"{path}:", "L") for line in caught.value.message.splitlines()]


def test_yaml_syntax_errors_name_line_and_column(tmp_path: Path) -> None:
    found = _problems("name: x\nsteps:\n  - id: a\n   action: shell\n", tmp_path)
    assert len(found) == 1 and found[0].startswith("L4:")


def test_schema_errors_point_at_the_offending_lines(tmp_path: Path) -> None:
    text = """\
name: Bad Name
rto: soon
steps:
  - id: a
    action: shell
    with: {command: echo}
    retries: {count: -1}
    on_failure: explode
  - id: b
    manual: {prompt: ok}
    action: shell
  - id: c
    colour: red
    action: shell
"""
    found = _problems(text, tmp_path)
    assert found[0].startswith("L1: name: invalid runbook name")
    assert found[1].startswith("L2: rto: 'soon' is not a duration")
    assert "L7: steps[0].retries.count: input should be greater than or equal to 0" in found[2]
    assert found[3].startswith("L8: steps[0].on_failure: on_failure is abort, continue")
    assert "exactly one of 'action', 'parallel' or 'manual' (got action, manual)" in found[4]
    assert found[4].startswith("L9: steps[1]")
    assert found[5].startswith("L13: steps[2].colour: unknown key")


def test_checks_across_steps_point_at_their_lines(tmp_path: Path) -> None:
    text = """\
name: cross
inputs: {region: {default: eu}}
steps:
  - id: a
    action: shell
    with: {command: "echo ${{ inputs.regoin }}", bogus: 1}
  - id: b
    action: nope
    on_failure: goto:zz
  - id: a
    action: http
    with: {url: "ftp://x"}
    when: "steps.ghost.outputs.x == 'y'"
  - id: g
    parallel:
      - {id: m1, action: shell, with: {command: x}, on_failure: goto:a}
    outputs: {x: y}
    rollback:
      - {id: r1, action: shell, with: {command: x}, on_failure: rollback}
"""
    found = _problems(text, tmp_path)
    assert found == [
        "L6: steps[0].with.bogus: unknown key; expected one of: command, env, cwd, expect_exit",
        "L6: steps[0].with.command: 'inputs.regoin': no input 'regoin' is declared under 'inputs'",
        "L8: steps[1].action: unknown action 'nope' (known: " + found[2].split("(known: ")[1],
        "L9: steps[1].on_failure: goto target 'zz' is not a top-level step (steps: a, b, g)",
        "L10: steps[2].id: step id 'a' is used twice; ids must be unique",
        "L12: steps[2].with.url: value error, url must start with http:// or https:// (got 'ftp://x')",
        "L13: steps[2].when: 'steps.ghost.outputs.x': there is no step 'ghost'",
        "L16: steps[3].parallel[0].on_failure: goto is only allowed on top-level steps",
        "L17: steps[3].outputs: a parallel group has no outputs of its own",
        "L19: steps[3].rollback[0].on_failure: a rollback step cannot itself roll back; "
        "use abort or continue",
    ]


def test_arguments_filled_at_run_time_are_not_judged_before(tmp_path: Path) -> None:
    loaded = parse_runbook(
        """\
name: later
inputs: {port: {default: "5432"}}
steps:
  - {id: t, action: tcp, with: {host: localhost, port: "${{ inputs.port }}"}}
""",
        tmp_path / "later.yaml",
    )
    assert loaded.runbook.steps[0].with_["port"] == "${{ inputs.port }}"


def test_the_version_ignores_comments_and_layout_but_not_content(tmp_path: Path) -> None:
    one = parse_runbook("name: v\nsteps: [{id: a, action: shell, with: {command: x}}]\n", tmp_path)
    two = parse_runbook(
        "# a comment\nname: v\nsteps:\n  - id: a  # same step\n    action: shell\n"
        "    with:\n      command: x\n",
        tmp_path,
    )
    three = parse_runbook(
        "name: v\nsteps: [{id: a, action: shell, with: {command: y}}]\n", tmp_path
    )
    assert one.version == two.version != three.version
    assert len(one.version) == 12


def test_a_runbook_must_be_a_mapping(tmp_path: Path) -> None:
    assert _problems("- just\n- a list\n", tmp_path)[0].startswith("L1: a runbook is a mapping")
