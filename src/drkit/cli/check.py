"""`drkit check` and `drkit repair index`: rendering what the repository layer found.

The work is done by :mod:`drkit.repository.check` and
:mod:`drkit.repository.repair`; this module parses options, takes the lock,
and prints the report as text or JSON. ``check`` ends with exit code 13
(IntegrityError) when it found any error, after printing the full report.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out, print_json
from drkit.cli.progress import make_progress
from drkit.errors import IntegrityError
from drkit.repository.check import AffectedSnapshot, Checker, CheckReport, PackSubset, Problem
from drkit.repository.locks import RepoLock
from drkit.repository.progress import Progress
from drkit.repository.repair import IndexRebuilder, RepairReport
from drkit.repository.repo import Repository

if TYPE_CHECKING:
    from drkit.services.repair_evidence import RepairEvidence

repair_app = typer.Typer(name="repair", no_args_is_help=True, help="repair a damaged repository")


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.add_typer(repair_app, name="repair", help="repair a damaged repository")


# -- check ---------------------------------------------------------------------------


def check(
    ctx: typer.Context,
    read_data: Annotated[
        bool, typer.Option("--read-data", help="also read every pack and verify every blob")
    ] = False,
    read_data_subset: Annotated[
        str | None,
        typer.Option(
            "--read-data-subset",
            metavar="N%|n/t",
            help="read a random N percent of the packs, or group n of t (1/5 ... 5/5)",
        ),
    ] = None,
    chain: Annotated[
        bool, typer.Option("--chain", help="also check PostgreSQL base backups + WAL for gaps")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    no_lock: Annotated[
        bool, typer.Option("--no-lock", help="take no lock (a read-only repository)")
    ] = False,
) -> None:
    """Check the repository's structure and, with --read-data, its content."""
    state: State = ctx.obj
    subset = _subset(read_data, read_data_subset)
    repo = state.open_repo(load_index=False)
    progress = make_progress(state.quiet, json_output)
    with RepoLock(repo, exclusive=False, operation="check", read_only_ok=True, no_lock=no_lock):
        report = Checker(repo, read_data=subset, progress=progress).run()
        if chain:
            from drkit.cli.pg import check_chain

            return check_chain(repo, report, json_output, state.quiet, render=_render)
    if json_output:
        print_json(report.to_json())
    else:
        _render(report, state.quiet)
    if not report.ok:
        raise IntegrityError(
            f"check found {len(report.errors)} error(s)",
            hint=report.hints[0] if report.hints else "see the report above",
        )


def _subset(read_data: bool, text: str | None) -> PackSubset | None:
    if text is not None:
        return PackSubset.parse(text)
    return PackSubset() if read_data else None


def _render(report: CheckReport, quiet: bool) -> None:
    for problem in report.errors:
        _problem("error", "red", problem)
    for problem in report.warnings:
        _problem("warning", "yellow", problem)
    for snap in report.affected:
        _affected(snap)
    if quiet and report.ok:
        return
    out.print(_summary(report), markup=False)
    for hint in report.hints:
        out.print(Text.assemble(("hint: ", "dim"), hint))
    if report.ok:
        out.print("no errors were found", style="green", markup=False)


def _problem(label: str, style: str, problem: Problem) -> None:
    out.print(Text.assemble((f"{label}: ", style), problem.message))


def _affected(snap: AffectedSnapshot) -> None:
    out.print(
        Text.assemble(
            ("damaged: ", "red"),
            f"snapshot {snap.short_id} ({snap.time:%Y-%m-%d %H:%M:%S}, {snap.id}) "
            f"cannot be restored in full; {len(snap.paths)} path(s) affected:",
        )
    )
    for p in snap.paths:
        out.print(f"  {p.path}: {p.reason}", markup=False)


def _summary(report: CheckReport) -> str:
    c = report.counts
    text = (
        f"checked {c.snapshots} snapshots, {c.index_files} index files, {c.packs} packs, "
        f"{c.blobs} blobs, {c.trees} trees"
    )
    if report.read_data is not None:
        text += (
            f"; read {c.packs_read} packs ({report.read_data}), {c.blobs_read} blobs, "
            f"{human_bytes(c.bytes_read)}"
        )
    return text + f"; {len(report.errors)} errors, {len(report.warnings)} warnings"


# -- repair index ----------------------------------------------------------------------


@repair_app.command("index")
def repair_index(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Rebuild the index from the pack headers and replace the old index files.

    For a repository named in drkit.yaml with open verification failures, the
    packs they name are read again afterwards: a good read resolves the
    `verify:REPO` alert, damage still there keeps it (exit 13).
    """
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    progress = make_progress(state.quiet, json_output)
    with RepoLock(repo, exclusive=True, operation="repair"):
        report = IndexRebuilder(repo, progress).run()
        evidence = _verify_repair(state, repo, progress)
    if json_output:
        print_json(asdict(report) | {"verified": _evidence_json(evidence)})
    else:
        _render_repair(report, state.quiet)
        _render_evidence(evidence)
    if evidence is not None and not evidence.ok:
        raise IntegrityError(
            f"the repair did not fix what the checks of {evidence.repository} found: "
            + (f"{len(evidence.damaged)} pack(s) still damaged" if evidence.damaged else
               evidence.problems[0]),
            hint="`drkit check --read-data` names the files this affects",
        )  # fmt: skip
    if report.unindexed:
        raise IntegrityError(
            f"{len(report.unindexed)} pack(s) could not be indexed: their headers are damaged",
            hint="`drkit check` shows which files this affects",
        )


def _verify_repair(state: State, repo: Repository, progress: Progress) -> RepairEvidence | None:
    """The re-read after the repair, for a named repository with a catalog (else nothing)."""
    from drkit.services.repair_evidence import verify_repair

    name = state.repo or ""
    if not name or state.named_repository(name) is None:
        return None
    return verify_repair(state.catalog(), name, repo, progress)


def _evidence_json(evidence: RepairEvidence | None) -> dict[str, object] | None:
    if evidence is None:
        return None
    packs = None if evidence.packs is None else sorted(evidence.packs)
    return {"ok": evidence.ok, "failures": evidence.failures, "packs": packs,
            "damaged": list(evidence.damaged), "problems": list(evidence.problems)}  # fmt: skip


def _render_evidence(evidence: RepairEvidence | None) -> None:
    if evidence is None:
        return
    read = "every pack" if evidence.packs is None else f"{len(evidence.packs)} pack(s)"
    if evidence.ok:
        out.print(
            f"re-read {read} named by {evidence.failures} open check failure(s) of "
            f"{evidence.repository}: no damage left; the verify alert resolves",
            markup=False,
        )
        return
    for pack in evidence.damaged:
        out.print(Text.assemble(("error: ", "red"), f"pack {pack} is still damaged"))
    for problem in evidence.problems:
        out.print(Text.assemble(("error: ", "red"), problem))


def _render_repair(report: RepairReport, quiet: bool) -> None:
    for name in report.from_old_index:
        out.print(
            Text.assemble(
                ("warning: ", "yellow"),
                f"pack {name} has a damaged header; its entries were kept from the old index",
            )
        )
    for name, why in sorted(report.unindexed.items()):
        out.print(Text.assemble(("error: ", "red"), f"pack {name} cannot be indexed: {why}"))
    if report.new_index is None:
        out.print("no readable pack was found; the index files were left as they are")
        return
    if not quiet:
        out.print(
            f"wrote index {report.new_index} with {report.blobs} blobs in {report.packs} packs; "
            f"removed {len(report.removed_index)} old index files",
            markup=False,
        )
