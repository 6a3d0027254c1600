"""`drkit check` and `drkit repair index`: rendering what the repository layer found.

The work is done by :mod:`drkit.services.check` and
:mod:`drkit.services.repair` (which take the locks); this module parses
options and renders the result as text or ``--json`` (its ``to_json()``).
``check`` ends with exit code 13 (IntegrityError) when it found any error,
after printing the full report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out
from drkit.repository.check import AffectedSnapshot, CheckReport, PackSubset, Problem
from drkit.repository.repair import RepairReport
from drkit.services import check as service
from drkit.services import repair as repair_service
from drkit.services.check import CheckRequest, CheckResult
from drkit.services.repair import RepairResult

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
    output = state.output_for(json_output)
    request = CheckRequest(_subset(read_data, read_data_subset), chain=chain, no_lock=no_lock)
    with output.progress() as progress:
        result = service.check(state.use(), request, progress)
    output.render(result, lambda r: _render_result(r, output.quiet))
    failure = result.failure()
    if failure is not None:
        raise failure


def _subset(read_data: bool, text: str | None) -> PackSubset | None:
    if text is not None:
        return PackSubset.parse(text)
    return PackSubset() if read_data else None


def _render_result(result: CheckResult, quiet: bool) -> None:
    """The structure report; after it, with --chain, the chain's findings and summary.

    The structure report's closing "no errors" line is left out when the chain is broken.
    """
    chain = result.chain
    if chain is None:
        _render(result.report, quiet)
        return
    from drkit.sources.wal_chain_report import findings, summary

    _render(result.report, quiet or not chain.ok)
    styles = {"error": "red", "warning": "yellow", "ok": "green"}
    for f in findings(chain):
        if f.severity != "ok" or not quiet:
            out.print(Text.assemble((f"{f.severity}: ", styles[f.severity]), f.text))
    if not quiet:
        out.print(summary(chain), markup=False)


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
    output = state.output_for(json_output)
    with output.progress() as progress:
        result = repair_service.repair_index(state.use(), progress)
    output.render(result, lambda r: _render_repaired(r, output.quiet))
    failure = result.failure()
    if failure is not None:
        raise failure


def _render_repaired(result: RepairResult, quiet: bool) -> None:
    _render_repair(result.report, quiet)
    _render_evidence(result.evidence)


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
