"""A throw-away PostgreSQL server for restore tests of logical dumps.

:class:`ScratchPostgres` runs ``initdb`` into a folder of the test's scratch
space, starts the server on a Unix socket in that folder only (no TCP port,
so nothing else can reach it), and stops it (``pg_ctl stop -m immediate``)
when the ``with`` block ends, whatever happened. initdb refuses to run as
root, so as root the server runs as the ``postgres`` user (or ``user``).
The binaries come from ``bin_dir`` (default: the newest
/usr/lib/postgresql/N/bin, else the PATH).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path
from types import TracebackType

from drkit.verify.errors import ScratchUnavailable

DEFAULT_USER = "postgres"
START_TIMEOUT_S = 120


def pg_bin_dir() -> Path | None:
    """The newest Debian-style PostgreSQL binaries folder, if any."""
    root = Path("/usr/lib/postgresql")
    found = sorted(
        (p / "bin" for p in root.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


class ScratchPostgres:
    """``with ScratchPostgres(folder) as pg: pg.dsn`` - a private, empty cluster."""

    def __init__(
        self,
        folder: Path,
        *,
        bin_dir: Path | None = None,
        user: str = DEFAULT_USER,
        datadir: Path | None = None,
    ):
        self.folder = folder
        self.bin_dir = bin_dir or pg_bin_dir()
        self.user = user if os.geteuid() == 0 else None
        self.existing = datadir is not None  # a restored cluster: start it, no initdb
        self.datadir = datadir or folder / "pgdata"
        self.socket_dir = folder / "socket"
        self.port = 5432  # only names the socket file: no TCP listener

    @property
    def dsn(self) -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname=postgres"

    def _tool(self, name: str) -> str:
        if self.bin_dir is not None and (self.bin_dir / name).exists():
            return str(self.bin_dir / name)
        found = shutil.which(name)
        if found is None:
            raise ScratchUnavailable(
                f"{name} is not installed: a restore test of a PostgreSQL dump starts a "
                "scratch server",
                hint="install the PostgreSQL server (apt-get install postgresql)",
            )
        return found

    def _run(self, *argv: str) -> None:
        cmd = ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            raise ScratchUnavailable(
                f"the scratch PostgreSQL server failed: {' '.join(argv[:2])}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )

    def __enter__(self) -> ScratchPostgres:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._hand_over()
        if not self.existing:
            initdb = [self._tool("initdb"), "-D", str(self.datadir), "-U", "postgres", "-A"]
            self._run(*initdb, "trust", "--no-sync")
        options = f"-c listen_addresses='' -k {self.socket_dir} -p {self.port} -c fsync=off"
        pg_ctl = self._tool("pg_ctl")
        self._run(pg_ctl, "-D", str(self.datadir), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start")  # fmt: skip
        return self

    def wait_promoted(self, timeout: float = START_TIMEOUT_S) -> float:
        """Wait until recovery ends and the server accepts writes; the seconds it took."""
        import time

        import psycopg

        from drkit.pgconnect import connect

        started = time.monotonic()
        while True:
            try:
                with connect(self.dsn, timeout_s=5, application_name="drkit scratch") as conn:
                    row = conn.execute("select pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    return time.monotonic() - started
            except psycopg.Error:
                pass  # still starting up
            if (
                time.monotonic() - started > timeout
                or not (self.datadir / "postmaster.pid").exists()
            ):
                log = (self.folder / "server.log").read_text(errors="replace")[-800:]
                raise ScratchUnavailable(f"the restored server did not finish recovery: {log}")
            time.sleep(0.2)

    def _hand_over(self) -> None:
        """As root: the server's user owns the folder and can reach it (search only)."""
        assert self.user is not None
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            raise ScratchUnavailable(
                f"no user {self.user!r} to run the scratch PostgreSQL server as (initdb "
                "refuses root)",
                hint="install the PostgreSQL server package, which creates it",
            ) from None
        parent = self.folder.parent
        parent.chmod(parent.stat().st_mode | stat.S_IXOTH)  # the test's own scratch folder
        for folder in parent.parents:
            if not folder.stat().st_mode & stat.S_IXOTH:
                raise ScratchUnavailable(
                    f"the {self.user} user cannot reach {self.folder}: {folder} is closed to "
                    "other users",
                    hint="choose a scratch folder under an open path (restore_test.scratch "
                    "or --scratch), e.g. /var/tmp/drkit",
                )
        for path in (self.folder, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run(self._tool("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop")
