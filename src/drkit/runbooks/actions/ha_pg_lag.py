"""``postgres.replication_lag``: how far a streaming replica is behind, in bytes and seconds.

Measured on the replica, so it works when the primary is gone (the failover
case): ``bytes`` is WAL received but not yet replayed, and ``seconds`` is the
age of the last replayed transaction, or 0 when everything received is
replayed (an idle primary is not lag). With ``primary_host`` given and the
primary reachable, ``bytes`` is measured against the primary's current WAL
position instead, which also counts WAL not yet received.

``max_bytes`` / ``max_seconds`` make it a gate: the step fails when the lag
is larger, so a runbook can refuse to promote a replica that would lose too
much. Outputs: ``bytes``, ``seconds``, ``receive_lsn``, ``replay_lsn``,
``last_replay_at`` (ISO time of the last replayed transaction; the RPO
evidence of a failover), ``measured_against`` (replica or primary).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import Port
from drkit.runbooks.actions.ha_pg import PgServerArgs, connect, fetch_one, first_line
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

_REPLICA_SQL = """
select pg_is_in_recovery(),
       coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text,
       pg_last_wal_replay_lsn()::text,
       coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0),
       case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
            else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0) end,
       pg_last_xact_replay_timestamp()
"""


class LagArgs(PgServerArgs):
    primary_host: str | None = Field(default=None, description="Also measure against the primary.")
    primary_port: Port = 5432
    max_bytes: int | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, ge=0)


@dataclass(frozen=True)
class Lag:
    bytes: int
    seconds: float
    receive_lsn: str
    replay_lsn: str
    last_replay_at: str
    measured_against: str = "replica"


@register
class ReplicationLag(Action[LagArgs]):
    type = "postgres.replication_lag"

    def run(self, args: LagArgs, ctx: ActionContext) -> ActionResult:
        lag = _replica_lag(args)
        if args.primary_host is not None:
            lag = _against_primary(args, lag, ctx)
        _gate(args, lag)
        line = (
            f"{args.address} is {lag.bytes} bytes / {lag.seconds:.1f} s behind "
            f"(replayed up to {lag.replay_lsn}, measured against the {lag.measured_against})"
        )
        return ActionResult(output=line, outputs=_outputs(lag))

    def describe(self, args: LagArgs) -> str:
        limits = [f"<= {args.max_bytes} bytes" if args.max_bytes is not None else ""]
        limits.append(f"<= {args.max_seconds:g} s" if args.max_seconds is not None else "")
        shown = " and ".join(x for x in limits if x)
        return f"measure the replication lag of {args.address}" + (
            f" (must be {shown})" if shown else ""
        )


def _replica_lag(args: LagArgs) -> Lag:
    with connect(args) as conn:
        row = fetch_one(conn, _REPLICA_SQL)
    in_recovery, receive, replay, lag_bytes, lag_seconds, replayed_at = row
    if not in_recovery:
        raise ActionFailed(
            f"{args.address} is not in recovery: it is a primary, not a replica",
            hint="point the step at the replica (it may have been promoted already)",
        )
    return Lag(
        bytes=int(lag_bytes),
        seconds=float(lag_seconds),
        receive_lsn=str(receive or ""),
        replay_lsn=str(replay or ""),
        last_replay_at=replayed_at.isoformat() if replayed_at else "",
    )


def _against_primary(args: LagArgs, lag: Lag, ctx: ActionContext) -> Lag:
    """Bytes between the primary's WAL position and the replica's replay position."""
    assert args.primary_host is not None
    primary = args.model_copy(update={"host": args.primary_host, "port": args.primary_port})
    try:
        with connect(primary) as conn:
            diff = conn.execute(
                "select pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lag.replay_lsn,)
            ).fetchone()
    except (ActionFailed, psycopg.Error) as exc:
        ctx.log(f"primary {primary.address} not measured: {first_line(exc)}")
        return lag
    if diff is None:
        return lag
    return Lag(
        bytes=max(int(diff[0]), 0),
        seconds=lag.seconds,
        receive_lsn=lag.receive_lsn,
        replay_lsn=lag.replay_lsn,
        last_replay_at=lag.last_replay_at,
        measured_against="primary",
    )


def _gate(args: LagArgs, lag: Lag) -> None:
    if args.max_bytes is not None and lag.bytes > args.max_bytes:
        raise ActionFailed(
            f"{args.address} is {lag.bytes} bytes behind, more than max_bytes {args.max_bytes}",
            hint="wait for it to catch up, or accept the loss by raising max_bytes",
        )
    if args.max_seconds is not None and lag.seconds > args.max_seconds:
        raise ActionFailed(
            f"{args.address} is {lag.seconds:.1f} s behind, more than max_seconds "
            f"{args.max_seconds:g}",
            hint="wait for it to catch up, or accept the loss by raising max_seconds",
        )


def _outputs(lag: Lag) -> dict[str, str]:
    return {
        "bytes": str(lag.bytes),
        "seconds": f"{lag.seconds:.3f}",
        "receive_lsn": lag.receive_lsn,
        "replay_lsn": lag.replay_lsn,
        "last_replay_at": lag.last_replay_at,
        "measured_against": lag.measured_against,
    }
