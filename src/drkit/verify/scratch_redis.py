"""A throw-away redis-server for restore tests of RDB snapshots.

:class:`ScratchRedis` starts ``redis-server`` on an RDB file in a folder of
the test's scratch space, listening on a Unix socket in a private folder
(``--port 0``: no TCP port; mode 0700, nothing else can reach it), with saving and the
AOF off so it never writes, and waits until the dataset is loaded. The
server is stopped (SIGTERM, then SIGKILL) when the ``with`` block ends,
whatever happened.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from drkit.verify.errors import ScratchUnavailable
from drkit.verify.scratch_process import stop, wait_ready

START_TIMEOUT_S = 600  # a large RDB takes its time to load
STOP_GRACE_S = 10


class ScratchRedis:
    """``with ScratchRedis(folder, "dump.rdb") as r: r.client()`` - the RDB, loaded."""

    def __init__(self, folder: Path, dbfilename: str) -> None:
        self.folder = folder
        self.dbfilename = dbfilename
        self.socket_dir = Path()
        self.socket = Path()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ScratchRedis:
        server = shutil.which("redis-server")
        if server is None:
            raise ScratchUnavailable(
                "redis-server is not installed: a restore test of a Redis snapshot loads it "
                "into a scratch server",
                hint="install it (apt-get install redis-server)",
            )
        # a Unix socket path must be short (under 108 bytes): a private folder of its own
        self.socket_dir = Path(tempfile.mkdtemp(prefix="drkit-redis-"))
        self.socket = self.socket_dir / "redis.sock"
        argv = [server, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm",
                "700", "--dir", str(self.folder), "--dbfilename", self.dbfilename, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--logfile",
                str(self.folder / "redis.log")]  # fmt: skip
        try:
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                raise ScratchUnavailable(f"cannot start redis-server: {exc}") from None
            self._wait_loaded()
        except BaseException:
            self._stop()
            raise
        return self

    def client(self) -> Any:
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=60)

    def _wait_loaded(self) -> None:
        import redis

        def loaded() -> bool:
            if not self.socket.exists():
                return False
            try:
                with self.client() as client:
                    return bool(client.info("persistence").get("loading") == 0)
            except (redis.BusyLoadingError, redis.ConnectionError):
                return False

        assert self.proc is not None
        log = self.folder / "redis.log"
        wait_ready(self.proc, loaded, "redis-server", log, START_TIMEOUT_S, poll_s=0.05)

    def _stop(self) -> None:
        try:
            stop(self.proc, STOP_GRACE_S)
        finally:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()
