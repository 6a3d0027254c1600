"""`drkit status`: the 3-2-1 evaluation of every policy's sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError
from drkit.policy.compliance import Compliance
from drkit.policy.objectives import format_objective
from drkit.policy.status import policy_compliance


def register(app: typer.Typer) -> None:
    app.command()(status)


def status(
    ctx: typer.Context,
    policy: Annotated[str | None, typer.Option(help="only this policy")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show, per policy and source, copies, media, off-site copies and RPO, and what fails."""
    state: State = ctx.obj
    settings = state.settings
    if not settings.policies:
        raise UsageError(
            "no policies are defined",
            hint="add a 'policies:' section to drkit.yaml (see docs/policies.md)",
        )
    names = [policy] if policy else sorted(settings.policies)
    for name in names:
        state.policy(name)  # an unknown name is a usage error listing the defined ones
    now = datetime.now(UTC)
    results = {
        n: policy_compliance(settings.policies[n], settings.repositories, state.open_named, now)
        for n in names
    }
    if json_output:
        print_json({n: [_to_json(c) for c in cs] for n, cs in results.items()})
        return
    for name, verdicts in results.items():
        for verdict in verdicts:
            _print(name, verdict)


def _print(policy: str, c: Compliance) -> None:
    mark = "[green]OK[/]" if c.ok else "[red]FAILING[/]"
    out.print(
        f"[bold]{policy}[/] {c.source}: {mark}  {c.copies} copies, media "
        f"{'/'.join(c.media)}, off-site: {', '.join(c.offsite) or 'none'}"
    )
    table = Table(box=None, padding=(0, 2))
    for col in ("repository", "media", "site", "newest snapshot", "age", "counts"):
        table.add_column(col)
    for v in c.verdicts:
        newest = f"{v.copy.newest:%Y-%m-%d %H:%M}" if v.copy.newest else "-"
        age = format_objective(v.age) if v.age is not None else "-"
        table.add_row(
            v.copy.repository,
            v.copy.media,
            v.copy.site,
            newest,
            age,
            "yes" if v.counts else f"no: {v.why}",
        )
    out.print(table)
    for rule in c.failures():
        out.print(f"  [red]{rule.rule.value} fails:[/] {rule.detail}")


def _to_json(c: Compliance) -> dict[str, Any]:
    return {
        "source": c.source,
        "ok": c.ok,
        "copies": c.copies,
        "media": list(c.media),
        "offsite": list(c.offsite),
        "rules": [{"rule": r.rule.value, "ok": r.ok, "detail": r.detail} for r in c.rules],
        "repositories": [
            {
                "name": v.copy.repository,
                "media": v.copy.media,
                "site": v.copy.site,
                "newest": v.copy.newest,
                "age_s": v.age.total_seconds() if v.age else None,
                "counts": v.counts,
                "why": v.why,
            }
            for v in c.verdicts
        ],
    }
