"""Operators talking to a running runbook from other processes: approve, reject, cancel.

Requests are rows in the catalog; the runner polls them. This works across
processes and hosts alike (a CLI on a laptop, the API, a second terminal),
and leaves a record of who decided what and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.runbooks.tables import RunbookRequestRow


class RequestKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Request:
    kind: RequestKind
    step: str | None
    actor: str
    comment: str
    created_at: datetime


def send(
    catalog: Catalog,
    run_id: int,
    kind: RequestKind,
    *,
    actor: str,
    step: str | None = None,
    comment: str = "",
) -> None:
    with catalog.session() as session:
        session.add(
            RunbookRequestRow(
                run_id=run_id,
                kind=kind,
                step=step,
                actor=actor,
                comment=comment,
                created_at=utcnow(),
            )
        )


def cancel_request(catalog: Catalog, run_id: int, since: datetime) -> Request | None:
    """The first cancel request sent to the run at or after ``since`` (a resume starts afresh)."""
    return _first(catalog, run_id, (RequestKind.CANCEL,), None, since)


def decisions(catalog: Catalog, run_id: int, step: str, since: datetime) -> list[Request]:
    """Approvals and rejections of ``step`` sent at or after ``since``, oldest first."""
    return _select(catalog, run_id, (RequestKind.APPROVE, RequestKind.REJECT), step, since)


def history(catalog: Catalog, run_id: int) -> list[Request]:
    """Every request sent to the run, oldest first."""
    return _select(catalog, run_id, tuple(RequestKind), None, None)


def _first(
    catalog: Catalog,
    run_id: int,
    kinds: tuple[RequestKind, ...],
    step: str | None,
    since: datetime | None,
) -> Request | None:
    found = _select(catalog, run_id, kinds, step, since)
    return found[0] if found else None


def _select(
    catalog: Catalog,
    run_id: int,
    kinds: tuple[RequestKind, ...],
    step: str | None,
    since: datetime | None,
) -> list[Request]:
    query = (
        select(RunbookRequestRow)
        .where(RunbookRequestRow.run_id == run_id, RunbookRequestRow.kind.in_(kinds))
        .order_by(RunbookRequestRow.id)
    )
    if step is not None:
        query = query.where(RunbookRequestRow.step == step)
    if since is not None:
        query = query.where(RunbookRequestRow.created_at >= since)
    with catalog.session() as session:
        return [
            Request(RequestKind(r.kind), r.step, r.actor, r.comment, r.created_at)
            for r in session.scalars(query)
        ]
