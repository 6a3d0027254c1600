"""`drkit snapshots`, `drkit ls` and `drkit diff`: looking into a repository."""

from __future__ import annotations

import stat
from datetime import datetime
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json, warn
from drkit.errors import SnapshotNotFound
from drkit.repository.diff import Change, diff_trees
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.repository.tree import Node, NodeType
from drkit.tablefit import Column, FittedTable


def register(app: typer.Typer) -> None:
    app.command()(snapshots)
    app.command("ls")(ls)
    app.command()(diff)


def load_snapshots(repo: Repository) -> list[Snapshot]:
    return repo.snapshots(on_damaged=lambda name, exc: warn(f"snapshot {name[:8]}: {exc}"))


def resolve(repo: Repository, ref: str) -> Snapshot:
    return find_snapshot(load_snapshots(repo), ref)


def snapshots(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="only this host")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="only with this tag")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List snapshots, oldest first."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    snaps = [
        s
        for s in load_snapshots(repo)
        if (not host or s.hostname == host) and all(t in s.tags for t in tag or [])
    ]
    if json_output:
        print_json([s.listing_json() for s in snaps])
        return
    table = FittedTable(
        (
            Column("ID", key=True),
            Column("Time", key=True),
            Column("Host", priority=2),
            Column("Tags", wrap=True, priority=1),
            Column("Paths", key=True),  # one a line, as restic prints them
            Column("Size", priority=3),
        )
    )
    for s in snaps:
        table.add_row(
            s.short_id + ("" if s.complete else " (incomplete)"),
            f"{s.time:%Y-%m-%d %H:%M:%S}",
            s.hostname,
            ",".join(s.tags),
            "\n".join(s.paths),
            human_bytes(s.summary.bytes_total),
        )
    out.print(table)
    out.print(f"{len(snaps)} snapshots")


def ls(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="snapshot id prefix or `latest`")],
    path: Annotated[str, typer.Argument(help="directory inside the snapshot")] = "/",
    recursive: Annotated[bool, typer.Option("--recursive", "-R")] = False,
    long: Annotated[bool, typer.Option("--long", "-l")] = False,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the files of a snapshot."""
    state: State = ctx.obj
    repo = state.open_repo()
    snap = resolve(repo, snapshot)
    tree, base = _find_dir(repo, snap.tree, path)
    entries = (
        repo.walk(tree, base)
        if recursive
        else ((f"{base}/{n.name}", n) for n in repo.load_tree(tree))
    )
    rows = list(entries)
    if json_output:
        print_json(
            [
                {"path": p, **{k: v for k, v in n.to_json().items() if k != "content"}}
                for p, n in rows
            ]
        )
        return
    for p, n in rows:
        out.print(_long(p, n) if long else p + ("/" if n.type is NodeType.DIR else ""))


def _find_dir(repo: Repository, tree: bytes, path: str) -> tuple[bytes, str]:
    parts = [p for p in path.split("/") if p]
    base = ""
    for part in parts:
        node = next((n for n in repo.load_tree(tree) if n.name == part), None)
        if node is None or node.subtree is None:
            raise SnapshotNotFound(
                f"{path} is not a directory in the snapshot",
                hint="`drkit ls SNAPSHOT` lists the top level",
            )
        tree, base = node.subtree, f"{base}/{part}"
    return tree, base


def _long(path: str, n: Node) -> str:
    kind = {NodeType.DIR: stat.S_IFDIR, NodeType.SYMLINK: stat.S_IFLNK}.get(n.type, stat.S_IFREG)
    when = datetime.fromtimestamp(n.mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M")
    owner = f"{n.user or n.uid}/{n.group or n.gid}"
    link = f" -> {n.target}" if n.target else ""
    return f"{stat.filemode(kind | n.mode)} {owner:>12} {n.size:>12} {when} {path}{link}"


def diff(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="older snapshot")],
    second: Annotated[str, typer.Argument(help="newer snapshot")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what changed between two snapshots."""
    state: State = ctx.obj
    repo = state.open_repo()
    all_snaps = load_snapshots(repo)
    a, b = find_snapshot(all_snaps, first), find_snapshot(all_snaps, second)
    entries = list(diff_trees(repo, a.tree, b.tree))
    if json_output:
        print_json(
            [
                {
                    "change": e.change.value,
                    "path": e.path,
                    "type": e.type.value,
                    "size_before": e.size_before,
                    "size_after": e.size_after,
                }
                for e in entries
            ]
        )
        return
    colours = {Change.ADDED: "green", Change.REMOVED: "red", Change.MODIFIED: "yellow"}
    for e in entries:
        colour = colours.get(e.change, "cyan")
        out.print(f"[{colour}]{e.change.value}[/] {e.path}", markup=True, highlight=False)
    counts = {c: sum(1 for e in entries if e.change is c) for c in Change}
    out.print(
        f"{counts[Change.ADDED]} added, {counts[Change.REMOVED]} removed, "
        f"{counts[Change.MODIFIED]} modified, {counts[Change.METADATA]} metadata only"
    )
