"""The step-by-step recovery guide, rendered from the runbook itself (Markdown and HTML).

The guide is what an operator reads when the automation cannot be used, or
to follow along: numbered steps with their descriptions, what each step
does, which ones need a person (manual steps), how long each usually takes
(the median of past runs) and the RTO the whole procedure must meet.
The figures are ``runbook stats``'s own (``RunbookStats.expected``): the
expected total is the median total of the full runs, not a sum of step
medians, so the guide and the stats never disagree.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from markdown_it import MarkdownIt

from drkit.runbooks.durations import duration_text
from drkit.runbooks.expected import Expected
from drkit.runbooks.model import Runbook
from drkit.runbooks.plan import ItemKind, PlanItem, plan

MANUAL_MARK = "MANUAL STEP"  # words, not an emoji: no font needed to show it


def markdown(runbook: Runbook, expected: Expected | None = None) -> str:
    """The guide as Markdown, with the expected durations of past runs."""
    expected = expected or Expected()
    lines = [f"# Runbook: {runbook.name}", "", _summary(runbook, expected), ""]
    if runbook.description:
        lines += [runbook.description.strip(), ""]
    lines += _inputs(runbook)
    lines += ["## Steps", ""]
    for item in plan(runbook, {}):
        lines += _item(item, expected.steps, level=3)
    return "\n".join(lines).rstrip() + "\n"


def to_html(runbook: Runbook, text: str) -> str:
    """A standalone HTML page of the Markdown guide."""
    body = MarkdownIt("commonmark").enable("table").render(text)
    title = html.escape(f"Runbook: {runbook.name}")
    return _PAGE.format(title=title, body=body)


def _summary(runbook: Runbook, expected: Expected) -> str:
    parts = [f"Version `{runbook.version}`"]
    parts.append(f"RTO target: **{duration_text(runbook.rto)}**" if runbook.rto else "no RTO set")
    if expected.total_s is not None:
        runs = f"{expected.runs} full run{'s' if expected.runs != 1 else ''}"
        parts.append(f"expected total: about {duration_text(expected.total_s)} (median of {runs})")
    manual = sum(1 for s in runbook.all_steps() if s.manual)
    if manual:
        parts.append(f"{manual} manual step{'s' if manual > 1 else ''}")
    return " · ".join(parts)


def _inputs(runbook: Runbook) -> list[str]:
    if not runbook.inputs:
        return []
    lines = ["## Inputs", "", "| Input | Default | Meaning |", "|---|---|---|"]
    for name, spec in runbook.inputs.items():
        default = f"`{spec.default}`" if spec.default is not None else "(required)"
        lines.append(f"| `{name}` | {default} | {spec.description} |")
    return [*lines, ""]


def _item(item: PlanItem, expected: Mapping[str, float], level: int) -> list[str]:
    step = item.step
    mark = f" — {MANUAL_MARK}" if item.kind is ItemKind.MANUAL else ""
    lines = [f"{'#' * level} {item.number}. {step.title}{mark}", ""]
    facts = [f"`{step.id}`"]
    if step.id in expected:
        facts.append(f"expected {duration_text(expected[step.id])}")
    facts += item.conditions
    lines += [" · ".join(facts), ""]
    if item.kind is ItemKind.MANUAL and step.manual is not None:
        who = f" (approvers: {', '.join(step.manual.approvers)})" if step.manual.approvers else ""
        lines += [f"> **{MANUAL_MARK}:** {step.manual.prompt}{who}", ""]
    if step.description:
        lines += [step.description.strip(), ""]
    lines += [f"**Does:** {_code(item.does)}", ""]
    for member in item.members:
        lines += _item(member, expected, min(level + 1, 6))
    if item.rollback:
        lines += ["**If the runbook rolls back, undo with:**", ""]
        lines += [f"- {r.number}. {r.step.title}: {_code(r.does)}" for r in item.rollback]
        lines.append("")
    return lines


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1f24; }}
h1 {{ border-bottom: 2px solid #d0d7de; }}
h3, h4 {{ margin-top: 2rem; }}
blockquote {{ background: #fff8c5; border-left: 4px solid #d4a72c; margin: 0;
             padding: .5rem 1rem; }}
code {{ background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #d0d7de; padding: .3rem .6rem; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
