"""`drkit status`: the 3-2-1 evaluation of every policy's sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError
from drkit.policy.compliance import Compliance
from drkit.policy.objectives import format_objective
from drkit.services.policy_status import policy_compliance

if TYPE_CHECKING:
    from drkit.monitor.facts import RepositoryFacts, RestoreState, SourceRestore


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


def _print(policy: str, c: Compliance, watched: dict[str, RepositoryFacts]) -> None:
    mark = "[green]OK[/]" if c.ok else "[red]FAILING[/]"
    out.print(
        f"[bold]{policy}[/] {c.source}: {mark}  {c.copies} copies, media "
        f"{'/'.join(c.media)}, off-site: {', '.join(c.offsite) or 'none'}"
    )
    table = Table(box=None, padding=(0, 2))
    for col in ("repository", "media", "site", "newest snapshot", "age", "counts"):
        table.add_column(col)
    for col in ("verified age", "last check", "last restore test"):
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
            *_watched_cells(watched.get(v.copy.repository), c.source, v.copy.newest),
        )
    out.print(table)
    for rule in c.failures():
        out.print(f"  [red]{rule.rule.value} fails:[/] {rule.detail}")


def _watched_cells(
    facts: RepositoryFacts | None, source: str, newest: datetime | None
) -> tuple[str, str, str]:
    if facts is None:
        return "-", "-", "-"
    now = datetime.now(UTC)
    verified = format_objective(now - facts.newest_verified) if facts.newest_verified else "none"
    check = facts.last_check
    checked = f"{'ok' if check.ok else 'FAILED'} {check.time:%Y-%m-%d %H:%M}" if check else "never"
    return verified, checked, _restore_cell(facts.restore_of(source), newest)


def _restore_state(restore: SourceRestore | None, newest: datetime | None) -> RestoreState:
    from drkit.monitor.facts import RestoreState, SourceRestore

    return (
        (restore or SourceRestore("", None, None, None)).judged(newest)
        if newest
        else (RestoreState.NO_SNAPSHOT)
    )


def _restore_cell(restore: SourceRestore | None, newest: datetime | None) -> str:
    """This source's restore evidence: "ok" only for a passed test of a source with snapshots."""
    from drkit.monitor.facts import RestoreState

    state = _restore_state(restore, newest)
    test = restore.last if restore is not None else None
    if state is RestoreState.OK and test is not None:
        return f"ok in {test.duration_s:.2f}s"
    if state is RestoreState.FAILED:
        return "FAILED"
    return state.value


def _watched_json(
    facts: RepositoryFacts | None, source: str, newest: datetime | None
) -> dict[str, Any]:
    if facts is None:
        return {}
    check, restore = facts.last_check, facts.restore_of(source)
    test = restore.last if restore is not None else None
    state = _restore_state(restore, newest)
    return {
        "newest_verified": facts.newest_verified,
        "last_check": {"kind": check.kind, "ok": check.ok, "time": check.time} if check else None,
        "restore_test": state.value,  # ok, failed, never tested, no snapshot
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
                **_watched_json(watched.get(v.copy.repository), c.source, v.copy.newest),
            }
            for v in c.verdicts
        ],
    }
