"""Runbooks as the faces show them: the list, a version, the versions, the guide.

One JSON shape for each, the CLI's ``--json`` and the API's alike. Reading
records nothing: the CLI records a changed file as a version before it asks
(``load`` is its own), the API and the dashboard only read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, RunView, get_run, list_runs
from drkit.runbooks import guide, versions
from drkit.runbooks.errors import RunbookError, RunbookInvalid
from drkit.runbooks.journal import records
from drkit.runbooks.loader import LoadedRunbook
from drkit.runbooks.service import KINDS
from drkit.runbooks.stats import collect
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.services.workspace import Workspace

MAX_VERSION = 64
Loader = Callable[[str], LoadedRunbook]


def runbook_store(ws: Workspace) -> RunbookStore:
    return RunbookStore(runbook_dir(ws.settings, ws.settings_file, ws.home))


def load(ws: Workspace, name: str, version: str | None = None) -> LoadedRunbook:
    """The runbook file ``name`` now, or as recorded in ``version`` (a hash prefix)."""
    if version:
        return versions.load_version(ws.catalog(), name, version[:MAX_VERSION])
    return runbook_store(ws).load(name)


def list_json(catalog: Catalog, store: RunbookStore, load: Loader) -> list[dict[str, Any]]:
    """`drkit runbook list --json`: every runbook with its version, RTO and last run."""
    rows: list[dict[str, Any]] = []
    for name in store.names():
        try:
            loaded = load(name)
        except RunbookInvalid as exc:
            rows.append({"name": name, "valid": False, "error": exc.message.splitlines()[0]})
            continue
        last = list_runs(catalog, subject=name, limit=1)
        rows.append(row_json(loaded, last[0] if last else None))
    return rows


def row_json(loaded: LoadedRunbook, last: RunView | None) -> dict[str, Any]:
    book = loaded.runbook
    return {
        "name": book.name,
        "valid": True,
        "version": book.version,
        "steps": len(book.all_steps()),
        "rto_s": book.rto.total_seconds() if book.rto else None,
        "description": book.description.strip().splitlines()[0] if book.description else "",
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "kind": last.kind,
            "status": last.status.value,
            "started_at": last.started_at,
            "duration_s": last.duration_s,
        },
    }


def show_json(loaded: LoadedRunbook) -> dict[str, Any]:
    """`drkit runbook show NAME --json`: the version, the parsed runbook and its text."""
    doc = loaded.runbook.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return {"version": loaded.version, "runbook": doc, "content": loaded.text}


def version_json(v: versions.RunbookVersion) -> dict[str, Any]:
    """One entry of `drkit runbook log NAME --json`."""
    return {"version": v.version, "author": v.author, "created_at": v.created_at, "path": v.path}


def guide_markdown(ws: Workspace, loaded: LoadedRunbook) -> str:
    """`drkit runbook guide NAME`: the guide with the expected durations of past runs."""
    expected = collect(ws.catalog(), loaded.runbook.name).expected()
    return guide.markdown(loaded.runbook, expected)


def guide_html(text: str) -> str:
    """The guide's Markdown as HTML, raw HTML in it escaped (not passed through)."""
    rendered: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return rendered


def guide_json(ws: Workspace, loaded: LoadedRunbook) -> dict[str, Any]:
    text = guide_markdown(ws, loaded)
    return {
        "name": loaded.runbook.name,
        "version": loaded.version,
        "markdown": text,
        "html": guide_html(text),
    }


def waiting_step(catalog: Catalog, run: RunView) -> str | None:
    """The step id a running runbook run waits at for an approval, if any."""
    if run.kind not in KINDS or run.status is not RunStatus.RUNNING:
        return None
    found = records(catalog, run.id)
    return found[-1].step if found and found[-1].status == "waiting" else None


def runbook_run(catalog: Catalog, run_id: int) -> RunView:
    """Run ``run_id``, a runbook run (RunbookError for any other kind)."""
    view = get_run(catalog, run_id)
    if view.kind not in KINDS:
        raise RunbookError(
            f"run {run_id} is a {view.kind} run, not a runbook run",
            hint="`drkit runs --kind runbook` lists runbook runs",
        )
    return view
