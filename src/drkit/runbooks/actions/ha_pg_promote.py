"""``postgres.promote``: turn a streaming replica into the writable primary, and prove it.

Two ways to promote, the two PostgreSQL itself offers:

- ``method: sql`` (default): ``SELECT pg_promote(true, wait_s)`` over a
  connection to the replica; works remotely, needs superuser or the
  ``pg_promote`` grant.
- ``method: pg_ctl``: ``pg_ctl promote -D DATA_DIR -w`` on the replica's host,
  as the data directory's owner (drkit running as root switches to that user,
  because pg_ctl refuses to run as root).

Either way the step then waits until the server leaves recovery and, with
``verify_write`` (default), runs a real write in a transaction (a temporary
table, which also needs a transaction id) so "promoted" means "accepts
writes". A server that is already a primary is not touched: the step is
idempotent, so a resumed or re-run failover passes it. Outputs: ``promoted``
(false when it already was a primary), ``lsn``, ``timeline``, ``seconds``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from pydantic import Field, model_validator

from drkit.runbooks.actions.base import Action, ActionContext, ActionResult
from drkit.runbooks.actions.ha_common import flag, poll
from drkit.runbooks.actions.ha_pg import PgServerArgs, connect, fetch_one, first_line
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

PG_BIN_DIRS = tuple(Path(f"/usr/lib/postgresql/{v}/bin") for v in range(18, 11, -1))


class Method(StrEnum):
    SQL = "sql"
    PG_CTL = "pg_ctl"


class PromoteArgs(PgServerArgs):
    method: Method = Method.SQL
    data_dir: Path | None = Field(default=None, description="The replica's data directory.")
    pg_ctl: Path | None = Field(default=None, description="pg_ctl to use (default: found).")
    run_as: str | None = Field(default=None, description="User for pg_ctl (default: dir owner).")
    wait_s: int = Field(default=60, ge=1, le=3600, description="Seconds to wait for promotion.")
    verify_write: bool = True

    @model_validator(mode="after")
    def _pg_ctl_needs_data_dir(self) -> PromoteArgs:
        if self.method is Method.PG_CTL and self.data_dir is None:
            raise ValueError("method pg_ctl needs data_dir")
        return self


@register
class Promote(Action[PromoteArgs]):
    type = "postgres.promote"

    def run(self, args: PromoteArgs, ctx: ActionContext) -> ActionResult:
        started = time.monotonic()
        promoted = _in_recovery(args)
        if promoted:
            ctx.log(f"{args.address} is in recovery: promoting with {args.method}")
            _promote(args)
            _wait_out_of_recovery(args, ctx)
        else:
            ctx.log(f"{args.address} is already a primary: nothing to promote")
        outputs = _verify(args)
        outputs.update(promoted=flag(promoted), seconds=f"{time.monotonic() - started:.3f}")
        verb = "promoted" if promoted else "already primary"
        line = f"{args.address} {verb}; timeline {outputs['timeline']}, lsn {outputs['lsn']}"
        return ActionResult(output=line, outputs=outputs)

    def describe(self, args: PromoteArgs) -> str:
        how = (
            f"pg_ctl promote -D {args.data_dir}" if args.method is Method.PG_CTL else "pg_promote()"
        )
        check = " and verify it accepts writes" if args.verify_write else ""
        return f"promote the PostgreSQL replica at {args.address} with {how}{check}"


def _in_recovery(args: PromoteArgs) -> bool:
    with connect(args) as conn:
        return bool(fetch_one(conn, "select pg_is_in_recovery()")[0])


def _promote(args: PromoteArgs) -> None:
    if args.method is Method.SQL:
        _promote_sql(args)
    else:
        _promote_pg_ctl(args)


def _promote_sql(args: PromoteArgs) -> None:
    try:
        with connect(args) as conn:
            row = conn.execute("select pg_promote(true, %s)", (args.wait_s,)).fetchone()
    except psycopg.Error as exc:
        raise ActionFailed(
            f"pg_promote() failed on {args.address}: {first_line(exc)}",
            hint="the user needs superuser or EXECUTE on pg_promote; or use method: pg_ctl",
        ) from exc
    if row is None or not row[0]:
        raise ActionFailed(
            f"{args.address} did not finish promotion within {args.wait_s} s",
            hint="see the replica's log; raise wait_s if it is still replaying WAL",
        )


def _promote_pg_ctl(args: PromoteArgs) -> None:
    assert args.data_dir is not None
    argv = [str(_pg_ctl(args)), "promote", "-D", str(args.data_dir), "-w", "-t", str(args.wait_s)]
    ids = _pg_ctl_user(args)
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=args.wait_s + 10,
            user=ids[0] if ids else None,
            group=ids[1] if ids else None,
            extra_groups=[] if ids else None,
            cwd="/" if ids else None,  # the other user may not enter drkit's directory
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ActionFailed(f"cannot run {argv[0]}: {exc}", hint="check pg_ctl and run_as") from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise ActionFailed(
            f"pg_ctl promote failed (exit {done.returncode}): {message[-1] if message else ''}",
            hint=f"is {args.data_dir} the data directory of the running replica?",
        )


def _pg_ctl(args: PromoteArgs) -> Path:
    if args.pg_ctl is not None:
        return args.pg_ctl
    found = shutil.which("pg_ctl")
    if found:
        return Path(found)
    for folder in PG_BIN_DIRS:
        if (folder / "pg_ctl").exists():
            return folder / "pg_ctl"
    raise ActionFailed("pg_ctl not found", hint="set pg_ctl: /usr/lib/postgresql/15/bin/pg_ctl")


def _pg_ctl_user(args: PromoteArgs) -> tuple[int, int] | None:
    """(uid, gid) to run pg_ctl as; it refuses root, so root uses run_as or the dir's owner."""
    if args.run_as is not None:
        try:
            entry = pwd.getpwnam(args.run_as)
        except KeyError:
            raise ActionFailed(f"no user {args.run_as!r} on this host", hint="fix run_as") from None
        return entry.pw_uid, entry.pw_gid
    if os.geteuid() != 0 or args.data_dir is None:
        return None
    try:
        st = args.data_dir.stat()
    except OSError as exc:
        raise ActionFailed(f"cannot read {args.data_dir}: {exc.strerror}", hint="") from exc
    return st.st_uid, st.st_gid


def _wait_out_of_recovery(args: PromoteArgs, ctx: ActionContext) -> None:
    def out_of_recovery() -> bool | None:
        try:
            return True if not _in_recovery(args) else None
        except ActionFailed:
            return None  # the server may refuse connections for a moment while it switches

    if poll(ctx, out_of_recovery, timeout_s=args.wait_s, interval_s=0.1) is None:
        raise ActionFailed(
            f"{args.address} is still in recovery {args.wait_s} s after promotion was asked",
            hint="see the replica's log; raise wait_s if it is still replaying WAL",
        )


def _verify(args: PromoteArgs) -> dict[str, str]:
    """The new primary's WAL position and timeline; with verify_write, prove a write commits."""
    with connect(args) as conn:
        if args.verify_write:
            _write_probe(args, conn)
        lsn, walfile = fetch_one(
            conn, "select pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn())"
        )
    # a WAL file name starts with the timeline id in 8 hex digits
    return {"lsn": str(lsn), "timeline": str(int(str(walfile)[:8], 16))}


def _write_probe(args: PromoteArgs, conn: psycopg.Connection[Any]) -> None:
    try:
        with conn.transaction():
            conn.execute("create temporary table drkit_write_probe (x int) on commit drop")
            conn.execute("insert into drkit_write_probe values (1)")
            conn.execute("select txid_current()")
    except psycopg.Error as exc:
        raise ActionFailed(
            f"{args.address} left recovery but refuses writes: {first_line(exc)}",
            hint="check default_transaction_read_only and the disk of the new primary",
        ) from exc
