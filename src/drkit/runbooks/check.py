"""Checks across a runbook's steps, run when it is loaded (before anything runs).

Each problem carries the location (``steps[2].with.url``) of what is wrong,
so the loader can point at the file's line: duplicate step ids, goto targets
that are not top-level steps, names in expressions that do not exist,
unknown actions, and ``with:`` arguments the action's own model rejects
(arguments holding ``${{ ... }}`` are checked at run time, once substituted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from drkit.runbooks import template
from drkit.runbooks.actions.registry import get_action, known_types
from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.expr import refs
from drkit.runbooks.model import FailurePolicy, Runbook, Step
from drkit.settings._diagnostics import describe

Loc = tuple[str | int, ...]

ROOTS = ("inputs", "steps", "run")
"""Names an expression may start with; ``result`` too in a step's ``outputs``."""


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str


def problems(runbook: Runbook) -> list[Problem]:
    """Every problem found, in file order."""
    found = list(_duplicate_ids(runbook))
    top_ids = {step.id for step in runbook.steps}
    all_ids = {step.id for step in runbook.all_steps()}
    for loc, step in _located_steps(runbook):
        found += _check_step(runbook, loc, step, top_ids, all_ids)
    return found


def _located_steps(runbook: Runbook) -> Iterator[tuple[Loc, Step]]:
    def walk(loc: Loc, step: Step) -> Iterator[tuple[Loc, Step]]:
        yield loc, step
        for key, children in (("parallel", step.parallel), ("rollback", step.rollback)):
            for i, child in enumerate(children):
                yield from walk((*loc, key, i), child)

    for i, step in enumerate(runbook.steps):
        yield from walk(("steps", i), step)


def _duplicate_ids(runbook: Runbook) -> Iterator[Problem]:
    seen: set[str] = set()
    for loc, step in _located_steps(runbook):
        if step.id in seen:
            yield Problem((*loc, "id"), f"step id {step.id!r} is used twice; ids must be unique")
        seen.add(step.id)


def _check_step(
    runbook: Runbook, loc: Loc, step: Step, top_ids: set[str], all_ids: set[str]
) -> list[Problem]:
    found = _check_failure_policy(loc, step, top_ids)
    found += _check_nesting(loc, step)
    found += _check_expressions(runbook, loc, step, all_ids)
    if step.action is not None:
        found += _check_action(loc, step)
    return found


def _check_failure_policy(loc: Loc, step: Step, top_ids: set[str]) -> list[Problem]:
    target = step.goto_target
    nested = len(loc) > 2
    where = (*loc, "on_failure")
    if target is not None and nested:
        return [Problem(where, "goto is only allowed on top-level steps")]
    if target is not None and target not in top_ids:
        known = ", ".join(sorted(top_ids))
        return [Problem(where, f"goto target {target!r} is not a top-level step (steps: {known})")]
    if nested and loc[-2] == "rollback" and step.failure_policy == FailurePolicy.ROLLBACK:
        return [Problem(where, "a rollback step cannot itself roll back; use abort or continue")]
    return []


def _check_nesting(loc: Loc, step: Step) -> list[Problem]:
    found = []
    if len(loc) > 2 and step.parallel:
        found.append(Problem((*loc, "parallel"), "parallel groups cannot be nested"))
    if loc[-2:-1] == ("rollback",) and step.rollback:
        found.append(Problem((*loc, "rollback"), "rollback steps have no rollback of their own"))
    if step.parallel and step.outputs:
        found.append(Problem((*loc, "outputs"), "a parallel group has no outputs of its own"))
    return found


def _check_expressions(runbook: Runbook, loc: Loc, step: Step, all_ids: set[str]) -> list[Problem]:
    sources: list[tuple[Loc, str, bool]] = []
    if step.when is not None:
        sources.append(((*loc, "when"), step.when, False))
    for key, value in step.with_.items():
        sources += [((*loc, "with", key), e, False) for e in template.expressions(value)]
    for key, value in step.outputs.items():
        sources += [((*loc, "outputs", key), e, True) for e in template.expressions(value)]
    found = []
    for where, source, in_outputs in sources:
        problem = _check_expression(runbook, source, all_ids, in_outputs)
        if problem:
            found.append(Problem(where, problem))
    return found


def _check_expression(runbook: Runbook, source: str, all_ids: set[str], in_outputs: bool) -> str:
    try:
        names = refs(template.compiled(source))
    except RunbookInvalid as exc:
        return exc.message
    for name in sorted(names):
        problem = _check_name(runbook, name, all_ids, in_outputs)
        if problem:
            return problem
    return ""


def _check_name(runbook: Runbook, name: str, all_ids: set[str], in_outputs: bool) -> str:
    root, _, rest = name.partition(".")
    roots = (*ROOTS, "result") if in_outputs else ROOTS
    if root not in roots:
        return f"{name!r}: names start with {', '.join(roots)}"
    if root == "inputs" and rest not in runbook.inputs:
        return f"{name!r}: no input {rest!r} is declared under 'inputs'"
    step_id, _, field = rest.partition(".")
    if root == "steps" and step_id not in all_ids:
        return f"{name!r}: there is no step {step_id!r}"
    if root == "steps" and field.partition(".")[0] not in ("outputs", "status"):
        return f"{name!r}: use steps.ID.outputs.KEY or steps.ID.status"
    return ""


def _check_action(loc: Loc, step: Step) -> list[Problem]:
    assert step.action is not None
    if step.action not in known_types():
        known = ", ".join(known_types())
        return [Problem((*loc, "action"), f"unknown action {step.action!r} (known: {known})")]
    args_model = get_action(step.action).Args
    try:
        args_model.model_validate(step.with_)
    except ValidationError as exc:
        return [
            Problem((*loc, "with", *error["loc"]), describe(error, args_model))
            for error in exc.errors()
            if not _filled_at_run_time(error["type"], error.get("input"))
        ]
    return []


def _filled_at_run_time(error_type: str, value: object) -> bool:
    """A value holding ``${{ ... }}`` is only known at run time: do not judge it now."""
    return error_type not in ("missing", "extra_forbidden") and template.has_placeholder(value)
