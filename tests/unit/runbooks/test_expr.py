"""The `when` / ${{ }} expression language: a table of expressions and of refused ones."""

from __future__ import annotations

import pytest

from drkit.runbooks import template
from drkit.runbooks.errors import ActionFailed, RunbookInvalid
from drkit.runbooks.expr import evaluate, holds, parse, refs, render

VARS = {
    "steps.detect.outputs.primary_down": "true",
    "steps.detect.status": "succeeded",
    "steps.lag.outputs.bytes": "0",
    "inputs.region": "eu-west",
    "inputs.empty": "",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("steps.detect.outputs.primary_down == 'true'", True),
        ("steps.detect.outputs.primary_down == true", True),  # text 'true' equals literal true
        ("steps.detect.outputs.primary_down != 'true'", False),
        ("steps.lag.outputs.bytes == 0", True),
        ("steps.lag.outputs.bytes", False),  # '0' is falsy
        ("inputs.empty", False),
        ("inputs.region", True),
        ("not inputs.region == 'us'", True),
        ("inputs.region == 'eu-west' and steps.detect.status == 'succeeded'", True),
        ("inputs.region == 'us' or steps.detect.status == \"succeeded\"", True),
        ("inputs.region == 'us' or (false and true)", False),
        ("not (true and false)", True),
        ("steps.missing.outputs.x == 'true'", False),  # no value: null
        ("steps.missing.outputs.x == null", True),
        ("not not true", True),
    ],
)
def test_when_expressions(source: str, expected: bool) -> None:
    assert holds(parse(source), VARS) is expected


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("a ==", "ends too early"),
        ("a === b", "cannot read"),
        ("(a == b", "not closed"),
        ("a b", "unexpected 'b'"),
        ("'unclosed", "cannot read"),
        ("and", "unexpected 'and'"),
        ("__import__('os')", r"unexpected '\('"),
        ("a == b)", r"unexpected '\)'"),
    ],
)
def test_bad_expressions_are_refused_with_the_reason(source: str, problem: str) -> None:
    with pytest.raises(RunbookInvalid, match=problem):
        parse(source)


def test_and_or_return_an_operand_so_or_gives_a_default() -> None:
    assert evaluate(parse("inputs.zone or 'a'"), VARS) == "a"
    assert evaluate(parse("inputs.region or 'a'"), VARS) == "eu-west"
    assert evaluate(parse("inputs.region and inputs.empty"), VARS) == ""


def test_refs_lists_every_name_read() -> None:
    assert refs(parse("(a.b == 'x' or not c.d) and e == f.g")) == {"a.b", "c.d", "e", "f.g"}


def test_render_refuses_a_name_without_value_but_allows_a_default() -> None:
    with pytest.raises(ActionFailed, match=r"steps.x.outputs.y }} has no value"):
        render(parse("steps.x.outputs.y"), VARS)
    assert render(parse("steps.x.outputs.y or 'none'"), VARS) == "none"
    assert render(parse("inputs.region == 'eu-west'"), VARS) == "true"


def test_substitution_reaches_nested_values_and_keeps_other_types() -> None:
    raw = {
        "url": "http://db-${{ inputs.region }}:${{ steps.lag.outputs.bytes }}/x",
        "list": ["${{ inputs.region }}", 3, True],
        "nested": {"flag": "${{ steps.detect.outputs.primary_down == 'true' }}"},
        "none": None,
    }
    assert template.substitute(raw, VARS) == {
        "url": "http://db-eu-west:0/x",
        "list": ["eu-west", 3, True],
        "nested": {"flag": "true"},
        "none": None,
    }


def test_substitute_known_keeps_what_only_a_run_can_tell() -> None:
    raw = "restore ${{ inputs.region }} from ${{ steps.snap.outputs.id }}"
    assert (
        template.substitute_known(raw, VARS) == "restore eu-west from ${{ steps.snap.outputs.id }}"
    )
    assert list(template.expressions({"a": [raw]})) == ["inputs.region", "steps.snap.outputs.id"]
