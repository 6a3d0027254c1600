"""Starting backups, copies and retention (forget, prune): 202 with the run's URL.

Each is the CLI's operation (`drkit backup --policy`, `drkit copy`, `drkit
forget --policy`) run in the serve process's background; the finished run's
result is that command's ``--json`` document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from drkit.api.auth import BACKUP, Principal, workspace
from drkit.api.launching import ACCEPTED, start
from drkit.services.launch import JournalProgress
from drkit.services.restore_launch import named_repository
from drkit.services.workspace import Workspace

router = APIRouter(tags=["operations"])
Ws = Annotated[Workspace, Depends(workspace)]
Operator = Annotated[Principal, Depends(BACKUP)]
Name = Annotated[str, Path(min_length=1, max_length=200)]


class BackupRequest(BaseModel):
    tags: list[str] = Field(default_factory=list, max_length=20)
    wait_lock: float = Field(default=0.0, ge=0, le=3600)
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="only this source of the policy (a label of GET /api/policies/{name})",
    )


class CopyRequest(BaseModel):
    source: str = Field(min_length=1, max_length=200, description="a repository in drkit.yaml")
    destination: str = Field(min_length=1, max_length=200, description="a repository")
    snapshots: list[str] = Field(default_factory=list, max_length=100)


class ForgetRequest(BaseModel):
    dry_run: bool = False
    prune: bool = False
    wait_lock: float = Field(default=0.0, ge=0, le=3600)


@router.post(
    response_model=None,
    path="/policies/{name}/backup",
    status_code=202,
    responses=ACCEPTED,
    summary="back up a policy's sources (or one of them) into its repositories "
    "(drkit backup --policy)",
)
def start_backup(
    name: Name, request: Request, ws: Ws, who: Operator, body: BackupRequest | None = None
) -> JSONResponse:
    from drkit.services.backup import BackupResult, BackupSpec, backup, one_source

    policy = ws.policy(name)  # an unknown policy (or source) is a 400 now, not a failed run
    asked = body or BackupRequest()
    if asked.source is not None:
        one_source(policy, asked.source)
    spec = BackupSpec(
        policy=name, tags=list(asked.tags), wait_lock=asked.wait_lock, source=asked.source
    )

    def run(one: Workspace, progress: JournalProgress) -> BackupResult:
        return backup(one, spec, progress)

    return start(
        request,
        who,
        action="backup.start",
        kind="backup",
        subject=name,
        operation=run,
        judge=BackupResult.failure,
        cancellable=True,
    )


@router.post(
    response_model=None,
    path="/copy",
    status_code=202,
    responses=ACCEPTED,
    summary="copy snapshots between two repositories of drkit.yaml (drkit copy)",
)
def start_copy(body: CopyRequest, request: Request, ws: Ws, who: Operator) -> JSONResponse:
    from drkit.services.copy import CopyResult, CopySpec, copy

    for ref in (body.source, body.destination):
        named_repository(ws, ref)
    spec = CopySpec(body.source, body.destination, list(body.snapshots))

    def run(one: Workspace, progress: JournalProgress) -> CopyResult:
        return copy(one, spec, progress)

    subject = f"{body.source}->{body.destination}"
    return start(
        request, who, action="copy.start", kind="copy", subject=subject, operation=run,
        cancellable=True,
    )  # fmt: skip


@router.post(
    response_model=None,
    path="/policies/{name}/forget",
    status_code=202,
    responses=ACCEPTED,
    summary="apply a policy's retention in each of its repositories (drkit forget --policy)",
)
def start_forget(
    name: Name, request: Request, ws: Ws, who: Operator, body: ForgetRequest | None = None
) -> JSONResponse:
    from drkit.policy.forget import DEFAULT_GROUP_BY, parse_group_by
    from drkit.repository.prune import PruneOptions
    from drkit.services.forget import PolicyForgetResult, forget_policy

    ws.policy(name)
    asked = body or ForgetRequest()
    fields = parse_group_by(DEFAULT_GROUP_BY)
    pack_size = ws.settings.backup.pack_size_mib * 1024 * 1024

    def run(one: Workspace, progress: JournalProgress) -> PolicyForgetResult:
        options = PruneOptions(pack_size=pack_size, dry_run=asked.dry_run)
        return forget_policy(
            one,
            name,
            fields,
            options,
            run_prune=asked.prune,
            wait_lock=asked.wait_lock,
            progress=progress,
        )

    return start(request, who, action="forget.start", kind="forget", subject=name, operation=run)
