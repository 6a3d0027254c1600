"""Checking a repository as an operation: ``drkit check`` for every face.

:func:`check` opens the workspace's repository, takes the shared lock (none
with ``no_lock``, for a read-only repository), runs the structure check (and
the read of the packs asked for) of :mod:`drkit.repository.check` and, with
``chain``, the PostgreSQL base backup + WAL chain check, all under that lock.
Bytes read are reported to the :class:`Progress`. The :class:`CheckResult`'s
``to_json()`` is ``drkit check --json``; :meth:`CheckResult.failure` is the
error a face raises for a check that found damage (exit 13, 25 for a broken
chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drkit.errors import DrkitError, IntegrityError
from drkit.repository.check import Checker, CheckReport, PackSubset
from drkit.repository.locks import RepoLock
from drkit.services.progress import SILENT, Counter, Progress

if TYPE_CHECKING:
    from drkit.services.workspace import Workspace
    from drkit.sources.wal_inventory import ChainCheckResult


@dataclass(frozen=True)
class CheckRequest:
    """What to check: the packs to read (None: structure only), the WAL chain, no lock."""

    read_data: PackSubset | None = None
    chain: bool = False
    no_lock: bool = False


@dataclass(frozen=True)
class CheckResult:
    """The structure (and read) report, and the chain check's when one was asked for."""

    report: CheckReport
    chain: ChainCheckResult | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok and (self.chain is None or self.chain.ok)

    def to_json(self) -> dict[str, Any]:
        if self.chain is None:
            return self.report.to_json()
        from drkit.sources.wal_chain_report import chain_json

        return {**self.report.to_json(), "ok": self.ok, "chain": chain_json(self.chain)}

    def failure(self) -> DrkitError | None:
        """Damage found: 13 (integrity, a damaged WAL object too), 25 a broken chain."""
        report = self.report
        if self.chain is None:
            if report.ok:
                return None
            return IntegrityError(
                f"check found {len(report.errors)} error(s)",
                hint=report.hints[0] if report.hints else "see the report above",
            )
        return _chain_failure(report, self.chain)


def _chain_failure(report: CheckReport, chain: ChainCheckResult) -> DrkitError | None:
    from drkit.sources.wal_chain_report import findings
    from drkit.sources.wal_errors import ChainBroken, WalDamaged

    if not report.ok:
        return IntegrityError(f"check found {len(report.errors)} error(s)")
    if chain.ok:
        return None
    first = next((f.text for f in findings(chain) if f.severity == "error"), "see the report")
    if chain.damaged_wal:
        return WalDamaged(
            f"{len(chain.damaged_wal)} archived WAL object(s) are damaged, which breaks the "
            f"backup chain: {first}"
        )
    return ChainBroken(f"the backup chain is broken: {first}")


def check(workspace: Workspace, request: CheckRequest, progress: Progress = SILENT) -> CheckResult:
    """Check the workspace's repository under a shared lock (see the module's docstring)."""
    repo = workspace.open_repo(load_index=False)
    with RepoLock(
        repo, exclusive=False, operation="check", read_only_ok=True, no_lock=request.no_lock
    ):
        report = Checker(repo, read_data=request.read_data, progress=Counter(progress)).run()
        if not request.chain:
            return CheckResult(report)
        from drkit.sources.wal_inventory import run_chain_check

        chain = run_chain_check(repo, read_data=report.read_data is not None)
    if chain.damaged_wal:  # a proof of any of them no longer holds: status must not trust it
        _withdraw_proofs(workspace, repo.config.id, list(chain.damaged_wal))
    return CheckResult(report, chain)


def _withdraw_proofs(workspace: Workspace, repository_id: str, names: list[str]) -> None:
    """Forget the catalog's proofs of WAL objects found damaged (without a catalog: none)."""
    from drkit.services.wal_recovery import forget_damaged

    try:
        catalog = workspace.catalog()
    except DrkitError:
        return  # no catalog, no proofs to withdraw
    forget_damaged(catalog, repository_id, names)
