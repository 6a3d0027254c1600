"""Status and 3-2-1 per policy and source; policies and repositories from drkit.yaml."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from drkit.api.auth import VIEW, Principal, workspace
from drkit.api.jsonbody import JSONBody
from drkit.api.repos import within_deadline
from drkit.catalog.types import utcnow
from drkit.services.status import status_report
from drkit.services.workspace import Workspace

router = APIRouter(tags=["status"])
Ws = Annotated[Workspace, Depends(workspace)]
Viewer = Annotated[Principal, Depends(VIEW)]


@router.get(
    response_model=None,
    path="/status",
    response_class=JSONBody,
    summary="3-2-1 and monitoring per policy and source (drkit status --json)",
)
def get_status(
    request: Request, who: Viewer, policy: Annotated[str | None, Query(max_length=200)] = None
) -> JSONBody:
    chosen = [policy] if policy else None
    report = within_deadline(
        request, "the repositories", lambda one: status_report(one, chosen, utcnow())
    )
    return JSONBody(report.to_json())


@router.get(response_model=None, path="/policies", summary="the policies in drkit.yaml")
def list_policies(ws: Ws, who: Viewer) -> list[dict[str, Any]]:
    return [policy_json(name, ws) for name in sorted(ws.settings.policies)]


@router.get(response_model=None, path="/policies/{name}", summary="one policy")
def get_policy(name: str, ws: Ws, who: Viewer) -> dict[str, Any]:
    ws.policy(name)  # usage error naming the defined ones
    return policy_json(name, ws)


@router.get(
    response_model=None, path="/policies/{name}/status", summary="3-2-1 per source of one policy"
)
def get_policy_status(name: str, request: Request, who: Viewer) -> list[dict[str, Any]]:
    report = within_deadline(
        request, f"the repositories of {name!r}", lambda one: status_report(one, [name], utcnow())
    )
    return report.policies[0].to_json()


@router.get(
    response_model=None, path="/repositories", summary="the repositories in drkit.yaml (no secrets)"
)
def list_repositories(ws: Ws, who: Viewer) -> list[dict[str, Any]]:
    return [
        {"name": name, "url": _public_url(r.url), "media": r.media.value, "site": r.site}
        for name, r in sorted(ws.settings.repositories.items())
    ]


def policy_json(name: str, ws: Workspace) -> dict[str, Any]:
    from drkit.sources.registry import source_labels

    p = ws.settings.policies[name]
    return {
        "name": name,
        "sources": source_labels(p.sources),
        "repositories": list(p.repositories),
        "site": p.site,
        "rpo_s": p.rpo.total_seconds() if p.rpo else None,
        "rto_s": p.rto.total_seconds() if p.rto else None,
    }


def _public_url(url: str) -> str:
    """A URL without user information (a password may be in it)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://{rest.split('@', 1)[1]}"
