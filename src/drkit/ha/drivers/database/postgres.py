"""The PostgreSQL driver: psycopg for state, pg_ctl / pg_rewind / pg_basebackup for actions.

Tools run as the data directory's owner (``os_user``, via ``runuser`` when drkit
runs as root), because PostgreSQL refuses to run as root. Demoting is a fence
first: stop the server (fast, then immediate), mark it a standby
(``standby.signal`` and, when given, ``primary_conninfo``), and only then start
it again, read-only; a server that will not start stays stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql as pgsql
from pydantic import BaseModel, ConfigDict, Field

from drkit import pgconnect
from drkit.ha.drivers.database import postgres_sql as sql
from drkit.ha.drivers.database.base import (
    Database,
    DatabaseState,
    ReplicaRow,
    SlotRow,
    StopMode,
)
from drkit.ha.drivers.errors import DatabaseError
from drkit.plugins import Plugin
from drkit.secrets import read_secret

_OWN_CONFIG = ("postgresql.conf", "pg_hba.conf", "pg_ident.conf")


log = logging.getLogger("drkit.ha.database")


class PostgresSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["postgres"] = "postgres"
    name: str = "postgres"
    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    user: str = "postgres"
    dbname: str = "postgres"
    password_env: str | None = None
    data_dir: Path
    bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    os_user: str = "postgres"
    log_file: Path | None = None
    connect_timeout_s: int = Field(default=3, ge=1, le=60)
    tool_timeout_s: float = Field(default=300, gt=0)


def _num(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class PostgresDatabase(Database):
    def __init__(self, settings: PostgresSettings) -> None:
        self.settings = settings
        self.name = settings.name

    # --- connecting and tools ------------------------------------------------------

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        s = self.settings
        password = read_secret(
            f"the password of database {self.name!r}", env=s.password_env, error=DatabaseError
        )
        return pgconnect.connect(
            host=s.host,
            port=s.port,
            user=s.user,
            dbname=s.dbname,
            password=password,
            timeout_s=s.connect_timeout_s,
            application_name="drkit-ha",
        )

    def _as_owner(self, *argv: str | Path) -> list[str]:
        command = [str(a) for a in argv]
        if os.geteuid() == 0 and self.settings.os_user != "root":
            return ["runuser", "-u", self.settings.os_user, "--", *command]
        return command

    def tool(
        self, name: str, *args: str | Path, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = self._as_owner(self.settings.bin_dir / name, *args)
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=self.settings.tool_timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DatabaseError(f"{self.name}: {name} did not run: {exc}") from exc
        if check and done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-1500:]
            raise DatabaseError(f"{self.name}: {name} exited {done.returncode}: {output}")
        return done

    def _running(self) -> bool:
        return (
            self.tool("pg_ctl", "-D", self.settings.data_dir, "status", check=False).returncode == 0
        )

    # --- probe -------------------------------------------------------------------------

    def probe(self) -> DatabaseState:
        try:
            with self.connect() as conn:
                (in_recovery,) = conn.execute("select pg_is_in_recovery()").fetchone() or (None,)
                return self._replica(conn) if in_recovery else self._primary(conn)
        except psycopg.Error as exc:
            return DatabaseState(reachable=False, error=str(exc).strip().splitlines()[0])

    def _primary(self, conn: psycopg.Connection[tuple[Any, ...]]) -> DatabaseState:
        lsn, timeline, sync_names = conn.execute(sql.PRIMARY).fetchone() or (None, None, None)
        replicas = tuple(
            ReplicaRow(r[0], r[1], r[2], r[3], _num(r[4]), _num(r[5]), _num(r[6]), _float(r[7]))
            for r in conn.execute(sql.REPLICAS).fetchall()
        )
        return DatabaseState(
            reachable=True,
            in_recovery=False,
            timeline=_num(timeline),
            current_lsn=_num(lsn),
            replicas=replicas,
            slots=self._slots(conn, sql.SLOTS_PRIMARY),
            synchronous_standby_names=sync_names,
        )

    def _replica(self, conn: psycopg.Connection[tuple[Any, ...]]) -> DatabaseState:
        row = conn.execute(sql.REPLICA).fetchone()
        assert row is not None
        receive, replay, lag_s, status, timeline, sync_names = row
        receive, replay = _num(receive), _num(replay)
        lag = None if receive is None or replay is None else max(0, receive - replay)
        return DatabaseState(
            reachable=True,
            in_recovery=True,
            timeline=_num(timeline),
            current_lsn=replay,
            receive_lsn=receive,
            replay_lsn=replay,
            lag_bytes=lag,
            lag_s=_float(lag_s),
            streaming=status == "streaming",
            slots=self._slots(conn, sql.SLOTS_REPLICA),
            synchronous_standby_names=sync_names,
        )

    @staticmethod
    def _slots(conn: psycopg.Connection[tuple[Any, ...]], query: str) -> tuple[SlotRow, ...]:
        rows = conn.execute(query).fetchall()
        return tuple(SlotRow(r[0], bool(r[1]), _num(r[2]), _num(r[3])) for r in rows)

    # --- actions ---------------------------------------------------------------------

    def promote(self, wait_s: float) -> DatabaseState:
        state = self.probe()
        if not state.reachable:
            raise DatabaseError(f"cannot promote {self.name}: {state.error}")
        if state.in_recovery:
            try:
                with self.connect() as conn:
                    row = conn.execute("select pg_promote(true, %s)", (max(1, int(wait_s)),))
                    (done,) = row.fetchone() or (False,)
            except psycopg.Error as exc:
                raise DatabaseError(f"{self.name}: pg_promote failed: {exc}") from exc
            if not done:
                raise DatabaseError(f"{self.name} did not finish promoting within {wait_s:g} s")
        return self._wait_writable(wait_s)

    def _wait_writable(self, wait_s: float) -> DatabaseState:
        deadline = time.monotonic() + wait_s
        while True:
            state = self.probe()
            if state.is_primary:
                return state
            if time.monotonic() > deadline:
                raise DatabaseError(f"{self.name} is not writable after {wait_s:g} s")
            time.sleep(0.1)

    def demote(self, primary_conninfo: str | None = None) -> None:
        self.stop(StopMode.FAST)
        self._mark_standby(primary_conninfo)
        try:
            self.start()
        except DatabaseError:
            return  # fenced all the same: stopped, and a standby when it next starts

    def _mark_standby(self, primary_conninfo: str | None) -> None:
        data = self.settings.data_dir
        self._write_owned(data / "standby.signal", "")
        if primary_conninfo is not None:
            quoted = primary_conninfo.replace("'", "''")
            auto = data / "postgresql.auto.conf"
            text = auto.read_text() if auto.exists() else ""
            self._write_owned(auto, text + f"\nprimary_conninfo = '{quoted}'\n")

    def _write_owned(self, path: Path, text: str) -> None:
        try:
            path.write_text(text)
            if os.geteuid() == 0:
                owner = pwd.getpwnam(self.settings.os_user)
                os.chown(path, owner.pw_uid, owner.pw_gid)
            path.chmod(0o600)
        except (OSError, KeyError) as exc:
            raise DatabaseError(f"{self.name}: cannot write {path.name}: {exc}") from exc

    def stop(self, mode: StopMode = StopMode.FAST) -> None:
        if not self._running():
            return
        done = self.tool(
            "pg_ctl",
            "-D",
            self.settings.data_dir,
            "-m",
            mode.value,
            "-w",
            "-t",
            "60",
            "stop",
            check=False,
        )
        if done.returncode != 0 and self._running():
            if mode is StopMode.IMMEDIATE:
                raise DatabaseError(f"{self.name} did not stop: {done.stderr.strip()[-500:]}")
            self.stop(StopMode.IMMEDIATE)

    def start(self) -> None:
        if self._running():
            return
        log = self.settings.log_file or self.settings.data_dir / "drkit-postgres.log"
        self.tool("pg_ctl", "-D", self.settings.data_dir, "-l", log, "-w", "-t", "120", "start")

    def set_synchronous_standbys(self, names: Sequence[str], count: int = 1) -> None:
        for name in names:
            if not name or '"' in name:
                raise DatabaseError(f"bad standby name {name!r}")
        listed = ", ".join('"' + name + '"' for name in names)
        value = f"FIRST {count} ({listed})" if names else ""
        statement = pgsql.SQL("alter system set synchronous_standby_names = {}").format(
            pgsql.Literal(value)
        )
        try:
            with self.connect() as conn:
                conn.execute(statement)
                conn.execute("select pg_reload_conf()")
        except psycopg.Error as exc:
            raise DatabaseError(
                f"{self.name}: cannot set synchronous_standby_names: {exc}"
            ) from exc

    def rewind_from(self, primary_conninfo: str) -> None:
        self.stop(StopMode.FAST)
        # pg_rewind copies the source's configuration files too (its port, its address):
        # keep ours, as Patroni does.
        data = self.settings.data_dir
        kept = {name: (data / name).read_bytes() for name in _OWN_CONFIG if (data / name).exists()}
        try:
            self._rewind(primary_conninfo)
        finally:
            for name, content in kept.items():
                (data / name).write_bytes(content)
        self.start()

    def _rewind(self, primary_conninfo: str) -> None:
        # A just-promoted primary writes its new timeline to pg_control only at its next
        # checkpoint; before that pg_rewind sees one timeline and says "no rewind required".
        try:
            with pgconnect.connect(
                primary_conninfo, timeout_s=10, application_name="drkit-ha"
            ) as conn:
                conn.execute("checkpoint")
        except psycopg.Error as exc:
            raise DatabaseError(
                f"{self.name}: cannot reach the new primary to rewind: {exc}"
            ) from exc
        self.tool(
            "pg_rewind", "-D", self.settings.data_dir, f"--source-server={primary_conninfo}", "-R"
        )

    def reclone_from(self, primary_conninfo: str) -> None:
        data = self.settings.data_dir
        self.stop(StopMode.FAST)
        aside = data.with_name(f"{data.name}.drkit-old-{int(time.time())}")
        self._owner_run("mv", data, aside)
        try:
            self.tool(
                "pg_basebackup",
                "-D",
                data,
                "-d",
                primary_conninfo,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            )
            for name in _OWN_CONFIG:
                if (aside / name).exists():
                    self._owner_run("cp", "-p", aside / name, data / name)
            self.start()
        except DatabaseError:
            with contextlib.suppress(DatabaseError):
                self._owner_run("rm", "-rf", data)
                self._owner_run("mv", aside, data)
            raise
        shutil.rmtree(aside, ignore_errors=True)

    # --- the diverged-writes report -----------------------------------------------------

    def control_timeline(self) -> int:
        done = self.tool("pg_controldata", "-D", self.settings.data_dir)
        m = re.search(r"Latest checkpoint's TimeLineID:\s*(\d+)", done.stdout)
        if m is None:
            raise DatabaseError(f"{self.name}: pg_controldata shows no timeline")
        return int(m[1])

    def timeline_history(self) -> tuple[int, str]:
        try:
            with self.connect() as conn:
                row = conn.execute("select pg_walfile_name(pg_current_wal_lsn())").fetchone()
                timeline = int(str(row[0] if row else "")[:8], 16)
                if timeline == 1:
                    return 1, ""
                found = conn.execute(
                    "select pg_read_file(%s)", (f"pg_wal/{timeline:08X}.history",)
                ).fetchone()
        except (psycopg.Error, ValueError) as exc:
            raise DatabaseError(f"{self.name}: cannot read its timeline history: {exc}") from exc
        return timeline, str(found[0]) if found else ""

    def wal_dump(self, timeline: int, start_lsn: int) -> str:
        # no end: pg_waldump reads to the end of valid WAL, then says where it stopped
        lsn = f"{start_lsn >> 32:X}/{start_lsn & 0xFFFFFFFF:X}"
        wal = self.settings.data_dir / "pg_wal"
        done = self.tool("pg_waldump", "-p", wal, "-t", str(timeline), "-s", lsn, check=False)
        if not done.stdout.strip() and done.returncode != 0:
            if "could not find a valid record after" in done.stderr:
                return ""  # the WAL ends at the start: nothing was written after it
            raise DatabaseError(f"{self.name}: pg_waldump read nothing: {done.stderr.strip()}")
        return done.stdout

    def relation_names(self, files: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], str]:
        names: dict[tuple[int, int, int], str] = {}
        try:
            with self.connect() as conn:
                rows = conn.execute(
                    "select oid, datname, dattablespace from pg_database"
                ).fetchall()
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.name}: cannot list its databases: {exc}") from exc
        databases = {int(oid): (str(name), int(space)) for oid, name, space in rows}
        for db_oid in sorted({f[1] for f in files}):
            if db_oid not in databases:
                continue
            dbname, default_space = databases[db_oid]
            names |= self._names_in(dbname, default_space, [f for f in files if f[1] == db_oid])
        return names

    def _names_in(
        self, dbname: str, default_space: int, files: list[tuple[int, int, int]]
    ) -> dict[tuple[int, int, int], str]:
        s = self.settings
        found = {}
        try:
            with pgconnect.connect(
                host=s.host,
                port=s.port,
                user=s.user,
                dbname=dbname,
                password=read_secret(
                    "the database password", env=s.password_env, error=DatabaseError
                ),
                timeout_s=s.connect_timeout_s,
                application_name="drkit-ha",
            ) as conn:
                for f in files:
                    space = 0 if f[0] == default_space else f[0]
                    row = conn.execute(
                        "select pg_filenode_relation(%s, %s)::regclass::text", (space, f[2])
                    ).fetchone()
                    if row is not None and row[0] is not None:
                        found[f] = f"{dbname}.{row[0]}"
        except psycopg.Error as exc:
            log.warning("%s: cannot name relations in %s: %s", self.name, dbname, exc)
        return found

    def _owner_run(self, *argv: str | Path) -> None:
        done = subprocess.run(self._as_owner(*argv), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DatabaseError(f"{self.name}: {argv[0]} failed: {done.stderr.strip()}")


PLUGIN = Plugin("postgres", PostgresSettings, PostgresDatabase, "PostgreSQL (psycopg + pg_ctl)")
