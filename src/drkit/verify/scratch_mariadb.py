"""A throw-away MariaDB server for restore tests of mariadb-dump snapshots.

:class:`ScratchMariadb` runs ``mariadb-install-db`` into a folder of the
test's scratch space, starts ``mariadbd`` on it with networking off and a
Unix socket in a private folder (nothing else can reach it), and stops it
(SIGTERM, then SIGKILL) when the ``with`` block ends, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from drkit.verify.errors import ScratchUnavailable
from drkit.verify.scratch_process import stop, wait_ready

START_TIMEOUT_S = 120
STOP_GRACE_S = 30


class ScratchMariadb:
    """``with ScratchMariadb(folder) as m: m.url(database)`` - a private, empty server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.datadir = folder / "data"
        self.socket_dir = Path()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.socket_dir / "mariadb.sock"

    def url(self, database: str) -> str:
        return f"mariadb://root@localhost/{database}?socket={self.socket}"

    def __enter__(self) -> ScratchMariadb:
        install, server = _tool("mariadb-install-db"), _tool("mariadbd")
        user = ["--user=root"] if os.geteuid() == 0 else []
        self.folder.mkdir(parents=True, exist_ok=True)
        # a Unix socket path must be short (under 108 bytes): a private folder of its own
        self.socket_dir = Path(tempfile.mkdtemp(prefix="drkit-mariadb-"))
        try:
            self._install(install, user)
            argv = [server, "--no-defaults", *user, f"--datadir={self.datadir}",
                    f"--socket={self.socket}", "--skip-networking", "--skip-log-bin",
                    f"--pid-file={self.folder / 'mariadbd.pid'}",
                    f"--log-error={self.folder / 'error.log'}",
                    "--innodb-flush-log-at-trx-commit=0"]  # fmt: skip
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
            self._wait_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def _install(self, install: str, user: list[str]) -> None:
        argv = [install, "--no-defaults", *user, f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal", "--skip-test-db"]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            raise ScratchUnavailable(
                f"mariadb-install-db failed: {(done.stderr or done.stdout).strip()[-500:]}"
            )

    def _wait_ready(self) -> None:
        import pymysql

        def answers() -> bool:
            if not self.socket.exists():
                return False
            try:
                pymysql.connect(unix_socket=str(self.socket), user="root").close()
            except pymysql.err.MySQLError:
                return False
            return True

        assert self.proc is not None
        wait_ready(self.proc, answers, "mariadbd", self.folder / "error.log", START_TIMEOUT_S)

    def _stop(self) -> None:
        try:
            stop(self.proc, STOP_GRACE_S)
        finally:
            if self.socket_dir != Path():
                shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if found is None:
        raise ScratchUnavailable(
            f"{name} is not installed: a restore test of a MariaDB dump starts a scratch server",
            hint="install the MariaDB server (apt-get install mariadb-server)",
        )
    return found
