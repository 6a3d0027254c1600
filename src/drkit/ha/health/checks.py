"""The probes: one call, one result. Each honours its timeout and never raises.

A :class:`Probe` returns ``ProbeResult(ok, detail)``; exceptions from
sockets, HTTP or SQL become ``ok=False`` with the reason, so a check loop
never dies of one bad probe.
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    values: tuple[tuple[str, str], ...] = ()


class Probe(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, timeout_s: float) -> ProbeResult: ...


@dataclass(frozen=True)
class HttpProbe:
    name: str
    url: str
    status: int | None = None
    body_contains: str | None = None

    def __call__(self, timeout_s: float) -> ProbeResult:
        try:
            response = httpx.get(self.url, timeout=timeout_s)
        except httpx.HTTPError as exc:
            return ProbeResult(False, f"{self.url}: {type(exc).__name__}: {exc}")
        code = response.status_code
        if (self.status is None and not 200 <= code < 300) or (
            self.status is not None and code != self.status
        ):
            return ProbeResult(False, f"{self.url}: status {code}")
        if self.body_contains is not None and self.body_contains not in response.text:
            return ProbeResult(False, f"{self.url}: body lacks {self.body_contains!r}")
        return ProbeResult(True, f"{self.url}: status {code}")


@dataclass(frozen=True)
class TcpProbe:
    name: str
    host: str
    port: int

    def __call__(self, timeout_s: float) -> ProbeResult:
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout_s):
                return ProbeResult(True, f"{self.host}:{self.port} accepts connections")
        except OSError as exc:
            return ProbeResult(False, f"{self.host}:{self.port}: {exc.strerror or exc}")


@dataclass(frozen=True)
class CommandProbe:
    name: str
    command: str

    def __call__(self, timeout_s: float) -> ProbeResult:
        try:
            done = subprocess.run(
                self.command, shell=True, capture_output=True, text=True, timeout=timeout_s
            )
        except subprocess.TimeoutExpired:
            return ProbeResult(False, f"{self.command!r} timed out after {timeout_s:g} s")
        tail = (done.stdout or done.stderr).strip().splitlines()[-1:] or [""]
        if done.returncode != 0:
            return ProbeResult(False, f"{self.command!r} exited {done.returncode}: {tail[0]}")
        return ProbeResult(True, tail[0] or "ok")


@dataclass(frozen=True)
class SqlProbe:
    """``select 1`` plus the role and lag of a PostgreSQL server (psycopg)."""

    name: str
    dsn: str
    expect_primary: bool | None = None

    def __call__(self, timeout_s: float) -> ProbeResult:
        import psycopg

        from drkit import pgconnect

        query = (
            "select pg_is_in_recovery(), "
            "case when pg_is_in_recovery() then coalesce(pg_wal_lsn_diff("
            "pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0) else 0 end, "
            "coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0)"
        )
        try:
            with pgconnect.connect(
                self.dsn,
                timeout_s=timeout_s,
                statement_timeout_s=timeout_s,
                application_name="drkit-health",
            ) as conn:
                row = conn.execute(query).fetchone()
        except psycopg.Error as exc:
            return ProbeResult(False, f"sql: {str(exc).strip().splitlines()[0]}")
        assert row is not None
        in_recovery, lag_bytes, lag_s = bool(row[0]), int(row[1]), float(row[2])
        values = (
            ("in_recovery", str(in_recovery).lower()),
            ("lag_bytes", str(lag_bytes)),
            ("lag_seconds", f"{lag_s:.3f}"),
        )
        role = "replica" if in_recovery else "primary"
        if self.expect_primary is not None and self.expect_primary == in_recovery:
            return ProbeResult(False, f"sql: server is a {role}", values)
        return ProbeResult(True, f"sql: {role}, replay lag {lag_bytes} bytes", values)
