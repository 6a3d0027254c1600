"""Restores, restore tests and backup drills started as runs (202 with the run's URL), and
the drills' recovery times against the RTO.

Each is the CLI's operation (`drkit restore`, `drkit verify restore-test --policy`,
`drkit drill backup --policy`) in serve's launcher; the finished run's result is
that command's ``--json`` document, and a result that did not pass (paths not
restored, a restore test that failed, a drill past its RTO) ends the run failed
with the error the CLI exits with. Bad input (an unknown policy, repository or
source, a target that is not an empty directory) is refused before anything runs.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from drkit.api.auth import BACKUP, RESTORE, RUNBOOKS, VIEW, Principal, workspace
from drkit.api.launching import ACCEPTED, start
from drkit.api.routes.operations import named_repository
from drkit.errors import UsageError
from drkit.services.launch import JournalProgress
from drkit.services.workspace import Workspace

router = APIRouter(tags=["restores"])
Ws = Annotated[Workspace, Depends(workspace)]
Name = Annotated[str, Path(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=1000)]


class RestoreRequest(BaseModel):
    snapshot: str = Field(
        default="latest", min_length=1, max_length=100, description="an id prefix, or `latest`"
    )
    target: str = Field(min_length=1, max_length=4000, description="an absolute directory")
    include: list[Text] = Field(
        default_factory=list, max_length=100, description="restore only these paths of it"
    )
    overwrite: bool = False
    policy: str | None = Field(default=None, max_length=200)
    tags: list[Text] = Field(default_factory=list, max_length=20)
    paths: list[Text] = Field(default_factory=list, max_length=20)
    host: str | None = Field(default=None, max_length=300)


class RestoreTestStart(BaseModel):
    source: str | None = Field(
        default=None, min_length=1, max_length=1000, description="a label of the policy's"
    )
    repository: str | None = Field(
        default=None, min_length=1, max_length=200, description="the policy's (default: first)"
    )
    snapshot: str | None = Field(default=None, min_length=1, max_length=100)


class DrillStart(BaseModel):
    repository: str | None = Field(default=None, min_length=1, max_length=200)
    snapshot: str | None = Field(default=None, min_length=1, max_length=100)


@router.post(
    response_model=None,
    path="/repositories/{name}/restore",
    status_code=202,
    responses=ACCEPTED,
    summary="restore a snapshot (or paths of it) into a directory (drkit restore)",
)
def start_restore(
    name: Name,
    body: RestoreRequest,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(RESTORE)],
) -> JSONResponse:
    from drkit.services.restore import RestoreOutcome, RestoreSpec, check, restore

    named_repository(ws, name)
    if not os.path.isabs(body.target):
        raise UsageError(
            f"the target {body.target!r} is not an absolute path",
            hint="name the directory to restore into from the root, e.g. /srv/restore",
        )
    if body.policy is not None:
        ws.policy(body.policy)
    spec = RestoreSpec(
        snapshot=body.snapshot,
        target=os.path.normpath(body.target),
        includes=list(body.include),
        overwrite=body.overwrite,
        policy=body.policy,
        tags=list(body.tags),
        paths=list(body.paths),
        host=body.host,
        repository=name,
    )
    check(spec)  # not a directory, or not empty: 400 now

    def run(one: Workspace, progress: JournalProgress) -> RestoreOutcome:
        return restore(one, spec, progress)

    subject = f"{name}:{spec.snapshot}"
    return start(request, who, action="restore.start", kind="restore", subject=subject,
                 operation=run, judge=RestoreOutcome.judge)  # fmt: skip


@router.post(
    response_model=None,
    path="/policies/{name}/restore-test",
    status_code=202,
    responses=ACCEPTED,
    summary="restore-test one source of a policy from one of its repositories "
    "(drkit verify restore-test --policy)",
)
def start_restore_test(
    name: Name,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(BACKUP)],
    body: RestoreTestStart | None = None,
) -> JSONResponse:
    from drkit.services.restore_test import RestoreTestRequest, restore_test, restore_test_failure
    from drkit.verify.journaling import record_restore_evidence
    from drkit.verify.restore_test import RestoreTestResult

    asked = body or RestoreTestStart()
    repository = _policy_repository(ws, name, asked.repository)
    path = _source_path(ws, name, asked.source)
    test = RestoreTestRequest(snapshot=asked.snapshot, path=path, policy=name)

    def run(one: Workspace, progress: JournalProgress) -> RestoreTestResult:
        one.repo = repository
        live, journal = progress.live_only(), progress.journal
        result = restore_test(one, test, repository=repository, progress=live, journal=journal)
        record_restore_evidence(one.catalog(), repository, name, result, kind="restore-test")
        return result

    return start(request, who, action="restore-test.start", kind="restore-test", subject=name,
                 operation=run, judge=restore_test_failure)  # fmt: skip


@router.post(
    response_model=None,
    path="/policies/{name}/drill",
    status_code=202,
    responses=ACCEPTED,
    summary="restore a policy's newest snapshots and time them against its RTO "
    "(drkit drill backup --policy)",
)
def start_drill(
    name: Name,
    request: Request,
    ws: Ws,
    who: Annotated[Principal, Depends(RUNBOOKS)],
    body: DrillStart | None = None,
) -> JSONResponse:
    from drkit.services.drill import DrillRequest, drill, drill_failure
    from drkit.verify.drill import DrillReport

    asked = body or DrillStart()
    if asked.repository is not None:
        _policy_repository(ws, name, asked.repository)
    else:
        ws.policy(name)
    wanted = DrillRequest(name, repository=asked.repository, snapshot=asked.snapshot)

    def run(one: Workspace, progress: JournalProgress) -> DrillReport:
        return drill(one, wanted, progress=progress.live_only(), journal=progress.journal)

    return start(request, who, action="drill.start", kind="drill", subject=name, operation=run,
                 judge=drill_failure)  # fmt: skip


@router.get(
    response_model=None,
    path="/drills",
    summary="drilled runbooks and restore tests of each source: recovery times against the RTO",
)
def drills(
    ws: Ws,
    who: Annotated[Principal, Depends(VIEW)],
    last: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    from drkit.services.drill_views import drills_overview

    return drills_overview(ws, last).to_json()


def _policy_repository(ws: Workspace, policy: str, asked: str | None) -> str:
    """``asked`` when it is one of the policy's repositories; the policy's first without."""
    repositories = list(ws.policy(policy).repositories)
    if asked is None:
        if not repositories:
            raise UsageError(f"policy {policy!r} has no repository", hint="add one in drkit.yaml")
        return repositories[0]
    if asked not in repositories:
        raise UsageError(
            f"policy {policy!r} does not back up into {asked!r}",
            hint=f"its repositories: {', '.join(repositories) or 'none'}",
        )
    return asked


def _source_path(ws: Workspace, policy: str, source: str | None) -> str | None:
    """The path a restore test of ``source`` chooses snapshots by (None: the policy's one).

    A policy with several restore targets (files, a database, ...) names the source: its
    newest snapshot holds one of them only."""
    from drkit.policy.restore_targets import restore_targets
    from drkit.services.backup import one_source
    from drkit.sources.registry import source_labels

    chosen = ws.policy(policy)
    targets = restore_targets(chosen)
    if source is None:
        if len(targets) > 1:
            raise UsageError(
                f"policy {policy!r} has {len(targets)} sources to restore-test: name one",
                hint=f"its sources: {', '.join(t.label for t in targets)}",
            )
        return None
    (label,) = source_labels([one_source(chosen, source)])
    found = [t for t in targets if label in t.sources]
    return found[0].path if found and len(targets) > 1 else None
