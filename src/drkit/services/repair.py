"""Repairing the index as an operation: ``drkit repair index`` for every face.

:func:`repair_index` takes the exclusive lock, rebuilds the index from the
pack headers (:mod:`drkit.repository.repair`) and, for a repository named in
drkit.yaml, re-reads what its open verification failures name
(:mod:`drkit.services.repair_evidence`), still under the lock. The
:class:`RepairResult`'s ``to_json()`` is ``drkit repair index --json``;
:meth:`RepairResult.failure` the error (exit 13) for damage a repair left.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from drkit.errors import DrkitError, IntegrityError
from drkit.repository.locks import RepoLock
from drkit.repository.repair import IndexRebuilder, RepairReport
from drkit.services.progress import SILENT, Counter, Progress

if TYPE_CHECKING:
    from drkit.repository.repo import Repository
    from drkit.services.repair_evidence import RepairEvidence
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class RepairResult:
    """What the rebuild did, and what the re-read after it found (None: nothing to re-read)."""

    report: RepairReport
    evidence: RepairEvidence | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self.report) | {"verified": evidence_json(self.evidence)}

    def failure(self) -> DrkitError | None:
        """Damage still there after the repair, or packs that could not be indexed."""
        evidence, report = self.evidence, self.report
        if evidence is not None and not evidence.ok:
            left = (
                f"{len(evidence.damaged)} pack(s) still damaged"
                if evidence.damaged
                else evidence.problems[0]
            )
            return IntegrityError(
                f"the repair did not fix what the checks of {evidence.repository} found: {left}",
                hint="`drkit check --read-data` names the files this affects",
            )
        if report.unindexed:
            return IntegrityError(
                f"{len(report.unindexed)} pack(s) could not be indexed: their headers are damaged",
                hint="`drkit check` shows which files this affects",
            )
        return None


def evidence_json(evidence: RepairEvidence | None) -> dict[str, object] | None:
    if evidence is None:
        return None
    packs = None if evidence.packs is None else sorted(evidence.packs)
    return {
        "ok": evidence.ok,
        "failures": evidence.failures,
        "packs": packs,
        "damaged": list(evidence.damaged),
        "problems": list(evidence.problems),
    }


def repair_index(workspace: Workspace, progress: Progress = SILENT) -> RepairResult:
    """Rebuild the index under the exclusive lock, then re-read what open failures name."""
    repo = workspace.open_repo(load_index=False)
    counter = Counter(progress)
    with RepoLock(repo, exclusive=True, operation="repair"):
        report = IndexRebuilder(repo, counter).run()
        evidence = _verify_repair(workspace, repo, counter)
    return RepairResult(report, evidence)


def _verify_repair(
    workspace: Workspace, repo: Repository, progress: Counter
) -> RepairEvidence | None:
    """The re-read after the repair, for a named repository with a catalog (else nothing)."""
    from drkit.services.repair_evidence import verify_repair

    name = workspace.repo_ref
    if not name or workspace.named_repository(name) is None:
        return None
    return verify_repair(workspace.catalog(), name, repo, progress)
