"""`drkit runbook`: DR runbooks as versioned YAML files; list, show, validate, save, log, diff.

Running them (run, resume, rerun, cancel, approve, reject) is in
runbook_run.py; guides and recovery-time statistics in runbook_report.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from drkit.cli import runbook_report, runbook_run
from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.cli.runbook_common import load_current, store, styled
from drkit.errors import UsageError
from drkit.tablefit import Column, FittedTable

app = typer.Typer(no_args_is_help=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="runbook", help="DR runbooks: versioned procedures, drills, guides")


runbook_run.attach(app)
runbook_report.attach(app)


@app.command("list")
def list_runbooks(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the runbooks in runbooks.dir with their version, RTO and last run."""
    from drkit.services.runbook_views import list_json

    state: State = ctx.obj
    output = state.output_for(json_output)
    rows = list_json(state.catalog(), store(state), lambda name: load_current(state, name))
    if output.json:
        print_json(rows)
        return
    _print_list(rows, store(state).directory)


def _print_list(rows: list[dict[str, Any]], directory: Path) -> None:
    if not rows:
        out.print(f"no runbooks in {directory}; `drkit runbook save FILE` adds one")
        return
    table = FittedTable(
        (
            Column("Name", key=True),
            Column("Version", key=True),
            Column("Steps", priority=3),
            Column("RTO", priority=2),
            Column("Last run", priority=2),
            Column("Description", wrap=True, priority=1),
        )
    )
    for row in rows:
        if not row["valid"]:
            table.add_row(row["name"], "[red]invalid[/]", "", "", "", row["error"])
            continue
        last = row["last_run"]
        shown = f"{last['id']} {styled(last['status'])}" if last else "-"
        rto = f"{row['rto_s']:g}s" if row["rto_s"] else "-"
        table.add_row(
            row["name"], row["version"], str(row["steps"]), rto, shown, row["description"]
        )
    out.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="runbook name")],
    version: Annotated[str | None, typer.Option(help="a recorded version (hash prefix)")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a runbook as it is now, or as it was in a recorded version."""
    from drkit.runbooks import versions

    state: State = ctx.obj
    output = state.output_for(json_output)
    if version is None:
        loaded = load_current(state, name)
    else:
        loaded = versions.load_version(state.catalog(), name, version)
    if output.json:
        from drkit.services.runbook_views import show_json

        print_json(show_json(loaded))
        return
    out.print(f"# {name} version {loaded.version}", style="dim")
    out.print(loaded.text, markup=False, end="")


@app.command("validate")
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="runbook files to check")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check runbook files: YAML, schema, and the checks across steps; problems at file:line."""
    from drkit.runbooks.errors import RunbookInvalid
    from drkit.runbooks.loader import load_runbook

    state: State = ctx.obj
    output = state.output_for(json_output)

    results: list[dict[str, Any]] = []
    for path in files:
        try:
            loaded = load_runbook(path)
            results.append({"file": str(path), "valid": True, "version": loaded.version})
        except RunbookInvalid as exc:
            results.append(
                {"file": str(path), "valid": False, "problems": exc.message.splitlines()}
            )
    if output.json:
        print_json(results)
    else:
        for result in results:
            if result["valid"] and not output.quiet:
                out.print(f"{result['file']}: [green]valid[/] (version {result['version']})")
            for problem in result.get("problems", []):
                out.print(problem, markup=False)
    bad = [r["file"] for r in results if not r["valid"]]
    if bad:
        raise RunbookInvalid(f"{len(bad)} of {len(results)} runbook files are invalid")


@app.command("schema")
def schema(
    path: Annotated[
        bool, typer.Option("--path", help="print where the installed schema file is instead")
    ] = False,
) -> None:
    """Print the JSON Schema of runbook files (shipped with drkit; for editors, offline)."""
    from drkit.runbooks.schema import shipped_schema_path, shipped_schema_text

    print(shipped_schema_path() if path else shipped_schema_text(), end="\n" if path else "")


@app.command("save")
def save(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="runbook file to add or update")],
    author: Annotated[
        str | None, typer.Option(help="who saves (default: $DRKIT_AUTHOR, user)")
    ] = None,
) -> None:
    """Check a runbook file, store it in runbooks.dir as NAME.yaml and record it as a version."""
    from drkit.runbooks import versions

    state: State = ctx.obj
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from exc
    saved = store(state).save(text, file)
    recorded = versions.record(state.catalog(), saved, author)
    if not state.output.quiet:
        out.print(f"saved {saved.name} version {recorded.version} to {saved.path}")


@app.command("log")
def log(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="runbook name")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the recorded versions of a runbook, newest first."""
    from drkit.runbooks import versions

    state: State = ctx.obj
    output = state.output_for(json_output)
    try:
        load_current(state, name)  # a changed file becomes the newest version first
    except Exception:
        pass
    found = versions.history(state.catalog(), name)
    if output.json:
        from drkit.services.runbook_views import version_json

        print_json([version_json(v) for v in found])
        return
    if not found:
        out.print(f"no versions of {name} recorded")
    for v in found:
        out.print(f"[yellow]{v.version}[/] {v.created_at:%Y-%m-%d %H:%M:%S} {v.author}  {v.path}")


@app.command("diff")
def diff(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="runbook name")],
    a: Annotated[str, typer.Argument(help="older version (hash prefix)")],
    b: Annotated[str | None, typer.Argument(help="newer version (default: the newest)")] = None,
) -> None:
    """Show what changed between two versions of a runbook (unified diff)."""
    from drkit.runbooks import versions

    state: State = ctx.obj
    catalog = state.catalog()
    old = versions.get(catalog, name, a)
    new = versions.get(catalog, name, b) if b else versions.history(catalog, name)[0]
    text = versions.diff(old, new)
    out.print(text or f"{old.version} and {new.version} have the same content", markup=False)
