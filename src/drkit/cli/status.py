"""`drkit status`: the 3-2-1 evaluation of every policy's sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError
from drkit.policy.compliance import Compliance
from drkit.policy.objectives import format_objective
from drkit.services.policy_status import policy_compliance
from drkit.tablefit import Column, FittedTable

if TYPE_CHECKING:
    from drkit.monitor.facts import RepositoryFacts


def register(app: typer.Typer) -> None:
    app.command()(status)


def status(
    ctx: typer.Context,
    policy: Annotated[str | None, typer.Option(help="only this policy")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per policy and source: 3-2-1, RPO, verified age, last check and restore test, alerts."""
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
    seen = _monitoring(state, now)
    if json_output:
        print_json({n: [_to_json(c, seen.get(n, {})) for c in cs] for n, cs in results.items()})
        return
    for name, verdicts in results.items():
        for verdict in verdicts:
            _print(name, verdict, seen.get(name, {}))
    _print_alerts(state)


Watched = dict[str, dict[str, "RepositoryFacts"]]


def _monitoring(state: State, now: datetime) -> Watched:
    """What the catalog knows per policy and repository: verified age, checks, restore tests."""
    from drkit.monitor.facts import gather

    facts = gather(state.catalog(), state.settings, now)
    return {p.name: {r.name: r for r in p.repositories} for p in facts.policies}


def _print_alerts(state: State) -> None:
    from drkit.monitor.alerts import open_alerts

    alerts = open_alerts(state.catalog())
    if alerts:
        out.print(f"[red]{len(alerts)} open alert(s)[/] (`drkit alerts`):")
    for a in alerts:
        out.print(f"  {a.severity}: {a.summary} [dim]({a.source})[/]")


STATUS_COLUMNS = (
    Column("repository", key=True),
    Column("media", priority=4),
    Column("site", priority=3),
    Column("newest snapshot", key=True),
    Column("age", priority=1),
    Column("counts", wrap=True, priority=1),
    Column("verified age", priority=2),
    Column("last check", priority=2),
    Column("last restore test", priority=3),
)
"""At 80 columns the repository and its newest snapshot stay whole; the site, media and
last restore test go first (``--json`` has everything)."""


def _print(policy: str, c: Compliance, watched: dict[str, RepositoryFacts]) -> None:
    mark = "[green]OK[/]" if c.ok else "[red]FAILING[/]"
    out.print(
        f"[bold]{policy}[/] {c.source}: {mark}  {c.copies} copies, media "
        f"{'/'.join(c.media)}, off-site: {', '.join(c.offsite) or 'none'}"
    )
    table = FittedTable(STATUS_COLUMNS)
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
            *_watched_cells(watched.get(v.copy.repository)),
        )
    out.print(table)
    for rule in c.failures():
        out.print(f"  [red]{rule.rule.value} fails:[/] {rule.detail}")


def _watched_cells(facts: RepositoryFacts | None) -> tuple[str, str, str]:
    if facts is None:
        return "-", "-", "-"
    now = datetime.now(UTC)
    verified = format_objective(now - facts.newest_verified) if facts.newest_verified else "none"
    check = facts.last_check
    checked = f"{'ok' if check.ok else 'FAILED'} {check.time:%Y-%m-%d %H:%M}" if check else "never"
    test = facts.last_restore
    restored = f"{'ok' if test.ok else 'FAILED'} in {test.duration_s:.2f}s" if test else "never"
    return verified, checked, restored


def _watched_json(facts: RepositoryFacts | None) -> dict[str, Any]:
    if facts is None:
        return {}
    check, test = facts.last_check, facts.last_restore
    return {
        "newest_verified": facts.newest_verified,
        "last_check": {"kind": check.kind, "ok": check.ok, "time": check.time} if check else None,
        "last_restore_test": (
            {"ok": test.ok, "time": test.time, "duration_s": test.duration_s} if test else None
        ),
    }


def _to_json(c: Compliance, watched: dict[str, RepositoryFacts]) -> dict[str, Any]:
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
                **_watched_json(watched.get(v.copy.repository)),
            }
            for v in c.verdicts
        ],
    }
