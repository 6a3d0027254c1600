"""`drkit config log|show|diff|collect|restore|push`: the configuration history.

Versions are named by id (``42``), time (``2024-05-01T14:30``) or phrase
(``yesterday``, ``2 hours ago``); a time names the version of a file (given
with ``--path``; default: drkit's own configuration) in force at that time.
See docs/config-history.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, out, print_json
from drkit.errors import UsageError

if TYPE_CHECKING:  # the domain (SQLAlchemy, paramiko) is imported when a command runs
    from drkit.confighistory.diff import TextDiff
    from drkit.confighistory.model import Scope
    from drkit.confighistory.restore import RestorePlan
    from drkit.confighistory.service import History
    from drkit.confighistory.structured import KeyDiff
    from drkit.services.config_restore import ConfigRestorePreview, ConfigRestoreResult
    from drkit.services.workspace import Workspace

app = typer.Typer(no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="print JSON")]
Author = Annotated[str | None, typer.Option(help="who makes the change (default: the OS user)")]
PathOpt = Annotated[
    str | None,
    typer.Option("--path", "-p", help="file the times refer to: /path, HOST:/path or drkit"),
]


def register(root: typer.Typer) -> None:
    root.add_typer(
        app, name="config", help="configuration history: versions, diffs, point-in-time restore"
    )


def _workspace(state: State) -> Workspace:
    """The workspace; a drkit.yaml that exists is versioned first (a missing one is rebuilt)."""
    path = state.settings_file
    return state.use() if path is None or path.exists() else state.workspace


@contextmanager
def _history(state: State) -> Iterator[History]:
    """The history of this installation (see :func:`drkit.services.config_restore.open_history`)."""
    from drkit.services.config_restore import open_history

    with open_history(_workspace(state)) as history:
        yield history


def _resolve_scope(history: History, path: str | None) -> Scope | None:
    """``--path`` as one scope: an exact match, or the one known scope it selects."""
    if path is None:
        return None
    scopes = history.select([path])
    if len(scopes) > 1:
        raise UsageError(
            f"{path!r} names {len(scopes)} files",
            hint="name one: " + ", ".join(s.display for s in scopes[:5]),
        )
    return scopes[0]


# -- log and show ----------------------------------------------------------------------------
@app.command()
def log(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="drkit, /path (globs), HOST:/path")
    ] = None,
    limit: Annotated[int, typer.Option(help="at most this many versions")] = 50,
    json_output: Json = False,
) -> None:
    """List versions, newest first: of everything, or of the configuration named."""
    from drkit.confighistory.log_view import version_doc, version_table
    from drkit.services.config_log import config_log

    state: State = ctx.obj
    versions = config_log(_workspace(state), paths, limit)
    if json_output:
        print_json([version_doc(v) for v in versions])
        return
    out.print(version_table(versions) if versions else "no versions yet")


@app.command()
def show(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="id, time or phrase")],
    path: PathOpt = None,
    json_output: Json = False,
) -> None:
    """Print a version's content, secrets redacted."""
    from drkit.confighistory import compare, views

    state: State = ctx.obj
    with _history(state) as history:
        found = history.resolve(version, _resolve_scope(history, path))
        side = history.side(found)
        assert side.content is not None
        lines = compare.shown_lines(found.scope, side.rules, side.content)
    if json_output:
        print_json({"version": views.version_doc(found), "binary": lines is None, "lines": lines})
        return
    out.print(f"[bold]{found.label}[/]: {found.message}", highlight=False)
    out.print("binary content" if lines is None else "\n".join(lines), markup=False)


# -- diff --------------------------------------------------------------------------------------
@app.command()
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="version id, time or phrase")],
    new: Annotated[str, typer.Argument(help="version id, time or phrase (now: the newest)")],
    path: PathOpt = None,
    side_by_side: Annotated[bool, typer.Option("--side-by-side", "-y", help="two columns")] = False,
    by_key: Annotated[bool, typer.Option("--by-key", help="YAML/JSON/TOML/INI by key")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="also write an HTML page")] = None,
    json_output: Json = False,
) -> None:
    """Show what changed between two versions, secrets redacted."""
    from drkit.confighistory import compare

    state: State = ctx.obj
    with _history(state) as history:
        scope = _resolve_scope(history, path)
        a = history.resolve(old, scope)
        b = history.resolve(new, scope or a.scope)  # a time on the right: the left one's file
        sides = history.side(a), history.side(b)
        title = f"drkit config diff: {a.label} → {b.label}"
        if by_key:
            _key_diff(compare.key_diff(*sides), title, html, json_output)
        else:
            _text_diff(compare.text_diff(*sides), title, html, json_output, side_by_side)


def _text_diff(
    result: TextDiff, title: str, html: Path | None, json_output: bool, side_by_side: bool
) -> None:
    from drkit.confighistory import html as html_render
    from drkit.confighistory import render, views

    if html is not None:
        fragment = (
            html_render.side_by_side_fragment if side_by_side else html_render.unified_fragment
        )
        _write_html(html, html_render.page(title, fragment(result)))
    if json_output:
        print_json(views.text_diff_doc(result))
    elif not result.changed:
        out.print("no difference")
    else:
        out.print(render.two_columns(result) if side_by_side else render.unified(result))


def _key_diff(result: KeyDiff, title: str, html: Path | None, json_output: bool) -> None:
    from drkit.confighistory import html as html_render
    from drkit.confighistory import render, views

    if html is not None:
        _write_html(html, html_render.page(title, html_render.key_fragment(result)))
    if json_output:
        print_json(views.key_diff_doc(result))
    else:
        out.print(render.key_table(result))


def _write_html(target: Path, page: str) -> None:
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from exc


# -- collect and push --------------------------------------------------------------------------
@app.command()
def collect(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="only this source (repeatable)")
    ] = None,
    author: Author = None,
    json_output: Json = False,
) -> None:
    """Collect drkit's configuration and every source now (the daemon does it daily)."""
    from drkit.confighistory import render, views
    from drkit.confighistory.errors import CollectionFailed
    from drkit.confighistory.jobs import RUN_KIND, finish, owned_run, run_collection
    from drkit.confighistory.service import default_author

    state: State = ctx.obj
    with _history(state) as history:
        _known_sources(history, source)
        with owned_run(history.catalog, kind=RUN_KIND, subject="config-history") as (journal, own):
            result = run_collection(
                history,
                author=author or default_author(),
                journal=journal,
                open_repository=lambda name: state.open_named(name),
                only=source,
            )
            finish(journal, own, result)
    if json_output:
        print_json(views.collection_doc(result))
    else:
        out.print(render.collection_report(result), end="")
    if result.failures:
        named = "; ".join(f"{f.where}: {f.error}" for f in result.failures)
        raise CollectionFailed(f"collection failed: {named}")


def _known_sources(history: History, wanted: list[str] | None) -> None:
    known = [s.name for s in history.config.sources]
    for name in wanted or []:
        if name not in known:
            raise UsageError(
                f"no source {name!r}",
                hint=f"config_history.sources in drkit.yaml: {', '.join(known) or 'none'}",
            )


@app.command("push")
def push_command(
    ctx: typer.Context,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="repository name or URL (default: --repo, else config_history.repositories)",
        ),
    ] = None,
    json_output: Json = False,
) -> None:
    """Write every version into backup repositories (a snapshot tagged config-history)."""
    from drkit.confighistory import views
    from drkit.confighistory.mirror import push

    state: State = ctx.obj
    with _history(state) as history:
        targets = to or ([state.repo] if state.repo else list(history.config.repositories))
        if not targets:
            raise UsageError(
                "no repository to push to",
                hint="pass --repo NAME, or list repositories under config_history.repositories",
            )
        results = [push(history.store, state.open_ref(name), name) for name in targets]
    if json_output:
        print_json([views.push_doc(r) for r in results])
        return
    for r in results:
        what = "already up to date" if r.skipped else f"snapshot {r.snapshot}"
        out.print(f"{r.repository}: {r.versions} versions, {what}")


# -- restore -------------------------------------------------------------------------------------
@app.command()
def restore(
    ctx: typer.Context,
    at: Annotated[str, typer.Option("--at", help="time or phrase: 2024-05-01T14:30, yesterday")],
    paths: Annotated[
        list[str] | None, typer.Argument(help="drkit (the default), /path (globs), HOST:/path")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only show what would change")] = False,
    from_repository: Annotated[
        str | None,
        typer.Option("--from-repository", help="first rebuild the history from this repository"),
    ] = None,
    snapshot: Annotated[str, typer.Option(help="with --from-repository: which push")] = "latest",
    restore_mode: Annotated[
        bool,
        typer.Option(
            "--restore-mode", help="also bring back each file's mode (default: keep the current)"
        ),
    ] = False,
    author: Author = None,
    json_output: Json = False,
) -> None:
    """Bring drkit's configuration (or files) back as at a time: preview, confirm, restore."""
    from drkit.confighistory.timeparse import parse_time
    from drkit.services.config_restore import ConfigRestoreSpec, restore_config

    state: State = ctx.obj
    output = state.output_for(json_output)
    spec = ConfigRestoreSpec(
        at=parse_time(at),
        paths=paths or [],
        dry_run=dry_run,
        from_repository=from_repository,
        snapshot=snapshot,
        restore_mode=restore_mode,
        author=author,
    )
    result = restore_config(_workspace(state), spec, _Review(output, yes))
    output.render(result, _print_restored)


class _Review:
    """The terminal's part in a restore: the plan shown, then --yes or a question."""

    def __init__(self, output: Output, yes: bool) -> None:
        self.output, self.yes = output, yes

    def show(self, preview: ConfigRestorePreview) -> None:
        if self.output.json:
            return
        if preview.imported is not None:
            out.print(f"imported {preview.imported} versions from {preview.from_repository}")
        _print_plan(preview.plan)

    def confirm(self, plan: RestorePlan) -> bool:
        return _confirmed(plan, self.yes, self.output.json)


def _print_restored(result: ConfigRestoreResult) -> None:
    for item in result.restored:
        before = f"version #{item.safety}" if item.safety else "gone (nothing to keep)"
        out.print(
            f"restored {item.scope.display} to version #{item.target}; the state before it is "
            + before,
            highlight=False,
        )


def _print_plan(plan: RestorePlan) -> None:
    from drkit.confighistory import render
    from drkit.confighistory.restore import ItemStatus

    for item in plan.items:
        if item.status is ItemStatus.NO_VERSION:
            out.print(f"{item.scope.display}: no version at that time, left as it is")
        elif item.status is ItemStatus.UNCHANGED:
            out.print(f"{item.scope.display}: already as at that time")
        elif item.diff is not None:
            out.print(render.unified(item.diff))
    if not plan.changes:
        out.print("nothing to restore")


def _confirmed(plan: RestorePlan, yes: bool, json_output: bool) -> bool:
    from drkit.confighistory.errors import RestoreDeclined

    if yes:
        return True
    if json_output or not sys.stdin.isatty():
        raise RestoreDeclined(
            "restoring needs a confirmation, and there is no terminal to ask on",
            hint="pass --yes to restore, or --dry-run to only see the changes",
        )
    names = ", ".join(i.scope.display for i in plan.changes)
    if not typer.confirm(f"restore {names} as shown above?", default=False):
        raise RestoreDeclined("restore cancelled")
    return True
