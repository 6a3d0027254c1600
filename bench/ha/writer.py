"""The write client of the anchor method: one numbered row every 100 ms through the load balancer.

Every attempt is logged (start, end, ok, which server answered). A write counts
as acknowledged only when its INSERT returned. Connecting and each statement
have a 2 s client-side limit: connect through psycopg's ``connect_timeout``,
the statement by a timer that shuts the socket down (a frozen backend behind
HAProxy never answers, and the kernel keeps the TCP connection open). After an
error the client reconnects on the next tick.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

TABLE = "bench_writes"
CREATE = (
    f"create table if not exists {TABLE} (seq bigint primary key, client_ts timestamptz, "
    "server_ts timestamptz default clock_timestamp())"
)


@dataclass(frozen=True)
class Attempt:
    seq: int
    start: float
    end: float
    ok: bool
    server: str | None
    error: str = ""


@dataclass
class Writer:
    host: str
    port: int
    period_s: float = 0.1
    timeout_s: float = 2.0
    attempts: list[Attempt] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user="postgres",
            dbname="postgres",
            connect_timeout=int(self.timeout_s),
            autocommit=True,
        )

    def _insert(self, conn: psycopg.Connection[Any], seq: int) -> str:
        # a second descriptor of the same connection: shutting it down ends a hung recv
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        timer = threading.Timer(self.timeout_s, _shutdown, args=(sock,))
        timer.start()
        try:
            row = conn.execute(
                f"insert into {TABLE} (seq, client_ts) values (%s, now()) "
                "returning inet_server_addr()::text",
                (seq,),
            ).fetchone()
        finally:
            timer.cancel()
            sock.close()
        assert row is not None
        return str(row[0]).split("/")[0]

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            seq += 1
            start = time.time()
            try:
                if conn is None:
                    conn = self._connect()
                server = self._insert(conn, seq)
                self.attempts.append(Attempt(seq, start, time.time(), True, server))
            except (psycopg.Error, OSError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self.attempts.append(Attempt(seq, start, time.time(), False, None, first[:200]))
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
            next_at += self.period_s
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at = time.monotonic()  # late after a timeout: the next tick is now
            else:
                self._stop.wait(delay)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
