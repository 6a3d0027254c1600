"""Snapshots per repository, the files of one snapshot (a directory at a time), and the
form that restores a snapshot (or a path of it) into a directory as a run.

The restore is :func:`drkit.services.restore_launch.plan_restore`, the API's: refused
before it runs when the target is not an absolute, empty directory (the page says why),
else started in serve's launcher as the signed-in user; the answer is the run's page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from drkit.api.auth import Principal
from drkit.api.launching import launcher
from drkit.api.repos import request_workspace
from drkit.errors import DrkitError, SnapshotNotFound
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.repository.tree import Node, NodeType
from drkit.services import restore_launch as plan
from drkit.services.restore import RestoreSpec
from drkit.services.workspace import Workspace
from drkit.users.model import Permission
from drkit.web.pages import PageRequire
from drkit.web.render import Viewer, Ws, check_csrf, error_status, page

Restorer = Annotated[Principal, Depends(PageRequire(Permission.RESTORE))]

MAX_REF = 64
MAX_PATH = 4096
MAX_ENTRIES = 1000
"""A directory shows at most this many entries (directories first): a page stays a page."""


@dataclass(frozen=True)
class Crumb:
    """One directory above the one shown, as a link."""

    name: str
    path: str


def install(app: FastAPI) -> None:
    app.get("/snapshots", include_in_schema=False)(repositories)
    app.get("/snapshots/{name}", include_in_schema=False)(snapshots)
    app.post("/snapshots/{name}/restore", include_in_schema=False)(start_restore)


async def start_restore(request: Request, name: str, ws: Ws, who: Restorer) -> Response:
    """The restore form: a snapshot (or one path of it) into a directory, as a run."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    ref = str(form.get("snapshot", ""))[:MAX_REF] or "latest"
    include = str(form.get("include", "")).strip()[:MAX_PATH]
    target = str(form.get("target", "")).strip()[:MAX_PATH]
    spec = RestoreSpec(
        snapshot=ref,
        target=os.path.normpath(target) if target else "",
        includes=[include] if include and include != "/" else [],
        overwrite=form.get("overwrite") == "yes",
        repository=name[:200],
    )

    def start() -> int:
        return plan.launch(launcher(request), ws, who.actor, plan.plan_restore(ws, spec))

    try:
        run_id = await run_in_threadpool(start)
    except DrkitError as exc:  # refused before it ran: the snapshot's page says why
        return await run_in_threadpool(_page, request, name[:200], ws, who, ref, include, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def repositories(request: Request, ws: Ws, who: Viewer) -> Response:
    repos = ws.settings.repositories
    return page(request, "repositories.html", who, repositories=repos)


def snapshots(
    request: Request,
    name: str,
    ws: Ws,
    who: Viewer,
    snapshot: str | None = None,
    path: str = "/",
) -> Response:
    return _page(request, name, ws, who, snapshot, path)


def _page(
    request: Request,
    name: str,
    ws: Workspace,
    who: Principal,
    snapshot: str | None,
    path: str,
    refused: DrkitError | None = None,
) -> Response:
    if ws.named_repository(name) is None:
        return page(request, "snapshots.html", who, 404, name=name, missing=True)
    problem, snaps, listing = None, [], None
    try:
        with request_workspace(ws) as one:
            repo = one.open_named(name)
            snaps = repo.snapshots(on_damaged=lambda *_: None)
            if snapshot:
                listing = _listing(repo, snaps, snapshot[:MAX_REF], path[:MAX_PATH])
    except DrkitError as exc:
        problem = exc
    problem = problem or refused
    return page(
        request,
        "snapshots.html",
        who,
        error_status(problem) if problem else 200,
        name=name,
        snapshots=sorted(snaps, key=lambda s: s.time, reverse=True),
        listing=listing,
        problem=problem,
    )


@dataclass(frozen=True)
class Listing:
    snapshot: Snapshot
    path: str
    crumbs: list[Crumb]
    entries: list[tuple[str, Node]]
    total: int  # entries in the directory; more than shown when it holds over MAX_ENTRIES


def _listing(repo: Repository, snaps: list[Snapshot], ref: str, path: str) -> Listing:
    snap = find_snapshot(snaps, ref)
    repo.load_index()
    tree, base = _find_dir(repo, snap.tree, path)
    entries = sorted(
        ((f"{base}/{n.name}", n) for n in repo.load_tree(tree)),
        key=lambda e: (e[1].type is not NodeType.DIR, e[1].name),
    )
    return Listing(snap, base or "/", crumbs(base), entries[:MAX_ENTRIES], len(entries))


def crumbs(path: str) -> list[Crumb]:
    """``/a/b`` -> the links ``/``, ``/a``, ``/a/b``."""
    parts = [p for p in path.split("/") if p]
    found = [Crumb("/", "/")]
    for i, part in enumerate(parts):
        found.append(Crumb(part, "/" + "/".join(parts[: i + 1])))
    return found


def _find_dir(repo: Repository, tree: bytes, path: str) -> tuple[bytes, str]:
    base = ""
    for part in (p for p in path.split("/") if p):
        node = next((n for n in repo.load_tree(tree) if n.name == part), None)
        if node is None or node.subtree is None:
            raise SnapshotNotFound(
                f"{path} is not a directory in the snapshot", hint="go back to its top level"
            )
        tree, base = node.subtree, f"{base}/{part}"
    return tree, base
