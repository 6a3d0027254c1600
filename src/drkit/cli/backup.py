"""`drkit backup PATH...` and `drkit backup --policy NAME` (fan-out to its repositories)."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json
from drkit.cli.progress import make_progress
from drkit.errors import DrkitError, IncompleteError, UsageError
from drkit.repository.archiver import Archiver, BackupOptions, normalise_targets
from drkit.repository.compression import Compression
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.locks import RepoLock
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.writer import DEFAULT_PACK_SIZE, BlobWriter

if TYPE_CHECKING:
    from drkit.sources.base import SourceConfig


def register(app: typer.Typer) -> None:
    app.command()(backup)


def backup(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="files and directories to back up")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(help="back up a policy's sources into all its repositories, reading once"),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-e", help="glob of names or paths to leave out (repeatable)"),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="tag the snapshot")] = None,
    host: Annotated[str | None, typer.Option(help="host name recorded in the snapshot")] = None,
    one_file_system: Annotated[
        bool, typer.Option("--one-file-system", "-x", help="do not cross mount points")
    ] = False,
    compression: Annotated[str | None, typer.Option(help="off, auto, max or zstd:N")] = None,
    wait_lock: Annotated[float, typer.Option(help="seconds to wait for a lock")] = 0.0,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Back up files and directories into a new snapshot (or, with --policy, one per repository)."""
    state: State = ctx.obj
    # Without a drkit.yaml the engine's defaults apply and the settings model is not loaded.
    cfg = state.settings.backup if state.settings_file else None
    sources, repo_names = _what_and_where(state, policy, paths or [])
    typed = _typed_sources(state, policy)
    # checks they exist before touching a repository (a policy may hold only databases)
    targets = normalise_targets(sources) if sources or not typed else []
    options = BackupOptions(
        paths=targets,
        excludes=[*(cfg.excludes if cfg else []), *(exclude or [])],
        tags=[*(tag or []), *([f"policy:{policy}"] if policy else [])],
        one_file_system=one_file_system or bool(cfg and cfg.one_file_system),
    )
    if host:
        options.host = host
    repos = (
        [state.open_ref(name) for name in repo_names]
        if policy
        else [state.open_repo(load_index=False)]
    )
    setting = Compression.parse(compression or (cfg.compression if cfg else "auto"))
    pack_size = cfg.pack_size_mib * 1024 * 1024 if cfg else DEFAULT_PACK_SIZE
    progress = make_progress(state.quiet, json_output)
    snaps: list[Snapshot] = []
    if targets:
        with ExitStack() as locks:
            for repo in repos:
                locks.enter_context(
                    RepoLock(
                        repo, exclusive=False, operation="backup", wait=wait_lock, load_index=True
                    )
                )
            destinations = [
                Destination(
                    repo,
                    BlobWriter(repo, setting, pack_size=pack_size),
                    FileCache.for_backup(repo.config.id, targets),
                )
                for repo in repos
            ]
            parents = [_parent(repo, targets, options.host) for repo in repos]
            snaps = Archiver(destinations, options, progress).run(parents)
        _report(snaps, repo_names, json_output, state.quiet)
    # each database (typed) source of the policy: snapshots of its own, one per repository
    failures = _database_backups(state, typed, repos, options.tags, host, json_output, wait_lock)
    if failures:
        raise failures[0]
    if snaps and snaps[0].errors:
        raise IncompleteError(
            f"snapshot {snaps[0].short_id} was saved, but {len(snaps[0].errors)} path(s) could "
            "not be read",
            hint="the paths are listed above and recorded in the snapshot",
        )


def _what_and_where(
    state: State, policy: str | None, paths: list[str]
) -> tuple[list[str], list[str]]:
    """The sources and the repository names of this backup."""
    if policy is None:
        if not paths:
            raise UsageError("nothing to back up", hint="name paths, or --policy NAME")
        return paths, [state.repo or os.environ.get("DRKIT_REPO", "")]
    chosen = state.policy(policy)
    from drkit.sources.registry import policy_paths

    return [*policy_paths(chosen.sources), *paths], list(chosen.repositories)


def _parent(repo: Repository, paths: list[str], host: str) -> Snapshot | None:
    """The newest earlier snapshot of the same paths from the same host."""
    same = [
        s
        for s in repo.snapshots(on_damaged=lambda *_: None)
        if s.paths == paths and s.hostname == host
    ]
    return same[-1] if same else None


def _report(snaps: list[Snapshot], names: list[str], json_output: bool, quiet: bool) -> None:
    snap, s = snaps[0], snaps[0].summary
    if json_output:
        doc = {
            "snapshot": snap.id,
            "short_id": snap.short_id,
            "time": snap.time,
            "paths": snap.paths,
            "summary": asdict(s),
            "errors": [asdict(e) for e in snap.errors],
        }
        if len(snaps) > 1:
            doc["repositories"] = [
                {"name": n, "summary": asdict(x.summary)} for n, x in zip(names, snaps, strict=True)
            ]
        print_json(doc)
        return
    for e in snap.errors:
        out.print(f"could not read {e.path}: {e.error}")
    if quiet:
        return
    out.print(
        f"files: {s.files_new} new, {s.files_changed} changed, "
        f"{s.files_unmodified} unmodified; {s.dirs} directories"
    )
    for name, x in zip(names, snaps, strict=True):
        where = f" in {name}" if len(snaps) > 1 else ""
        out.print(
            f"added {human_bytes(x.summary.data_added)} "
            f"({human_bytes(x.summary.data_added_stored)} stored){where} "
            f"of {human_bytes(s.bytes_total)} in {s.duration_s:.2f} s"
        )
    out.print(
        f"snapshot {snap.short_id} saved"
        + (f" in {len(snaps)} repositories" if len(snaps) > 1 else "")
    )


# Database sources load their drivers only for policies that have them: a plain
# file backup stays as small as it was (its memory is compared with restic's).
def _typed_sources(state: State, policy: str | None) -> list[SourceConfig]:
    if not policy:
        return []
    from drkit.sources.registry import policy_sources

    return policy_sources(state.policy(policy).sources)


def _database_backups(
    state: State,
    typed: list[SourceConfig],
    repos: list[Repository],
    tags: list[str],
    host: str | None,
    json_output: bool,
    wait_lock: float,
) -> list[DrkitError]:
    if not typed:
        return []
    from drkit.cli.db import backup_policy_sources

    return backup_policy_sources(state, typed, repos, tags, host, json_output, wait_lock)
