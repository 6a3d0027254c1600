"""Redis backups: the RDB snapshot, fetched over the replication protocol and streamed.

``redis-cli --rdb -`` asks the server for a full resynchronisation as a
replica would (``REPLCONF rdb-only``), and writes the RDB it receives to
standard output, which drkit chunks as it arrives: nothing is written on the
Redis host or on the backup host. An RDB holds the whole instance (every
logical database), so the database number of the URL does not matter.

Restore writes ``dump.rdb`` into a data directory (checked with
``redis-check-rdb`` when it is installed) and says how to start Redis on it.

```yaml
sources:
  - {type: redis, url: "redis://cache1:6379", password_file: /etc/drkit/redis.pw}
```
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, field_validator

from drkit.errors import UsageError
from drkit.plugins import Plugin
from drkit.sources.base import (
    RestoreRequest,
    RestoreResult,
    SourceConfig,
    StreamSource,
    counted,
    local_path,
    main_stream,
)
from drkit.sources.dump_checks import checked, redis_rdb
from drkit.sources.errors import (
    RestoreFailed,
    SourceUnavailable,
    TargetNotEmpty,
    read_password_file,
)
from drkit.sources.process import Command, describe_exit, stream_stdout
from drkit.sources.redis_checks import RedisCheck

if TYPE_CHECKING:  # the repository's stream code loads when a dump runs
    from drkit.repository.stream import StreamArchiver

PACKAGE = "redis-tools"
RDB_NAME = "dump.rdb"


class RedisConfig(SourceConfig):
    """One Redis server (all its databases)."""

    type: Literal["redis"] = "redis"
    url: str = Field(  # not in repr(): a URL may hold a password
        repr=False, description="redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://."
    )
    password_file: Path | None = Field(default=None, description="File holding the password.")
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for the server.")
    checks: list[RedisCheck] = Field(
        default_factory=list,
        description="Commands a restore test runs on the restored data (see redis_checks).",
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if urlparse(value).scheme not in ("redis", "rediss"):
            raise ValueError("the URL must start with redis:// or rediss://")
        return value

    @classmethod
    def from_url(cls, url: str) -> RedisConfig:
        return cls(url=url)

    @property
    def host(self) -> str:
        return urlparse(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlparse(self.url).port or 6379

    def secret(self) -> str | None:
        if self.password_file is not None:
            return read_password_file(self.password_file, f"the redis source {self.url}")
        password = urlparse(self.url).password
        return unquote(password) if password else None

    def describe(self) -> str:
        return f"redis {self.host}:{self.port}"


class RedisSource(StreamSource[RedisConfig]):
    type = "redis"

    @property
    def root(self) -> str:
        return f"/redis/{self.config.host}:{self.config.port}"

    def probe(self) -> dict[str, str]:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        parsed = urlparse(self.config.url)
        client = redis.Redis(
            retry=Retry(NoBackoff(), 0),  # a probe: one clear answer, not seconds of retries
            host=self.config.host,
            port=self.config.port,
            username=unquote(parsed.username) if parsed.username else None,
            password=self.config.secret(),
            ssl=parsed.scheme == "rediss",
            socket_connect_timeout=self.config.connect_timeout,
        )
        try:
            info = client.info("server")
        except redis.RedisError as exc:
            raise SourceUnavailable(
                f"cannot connect to Redis at {self.config.host}:{self.config.port}: {exc}"
            ) from None
        finally:
            client.close()
        return {
            "redis.endpoint": f"{self.config.host}:{self.config.port}",
            "redis.server_version": str(info.get("redis_version", "")),
        }

    def dump(self, archiver: StreamArchiver) -> str:
        parsed = urlparse(self.config.url)
        secret = self.config.secret()
        argv = ["redis-cli", "-h", self.config.host, "-p", str(self.config.port)]
        if parsed.username:
            argv += ["--user", unquote(parsed.username)]
        if parsed.scheme == "rediss":
            argv.append("--tls")
        cmd = Command(
            [*argv, "--rdb", "-"],
            env={"REDISCLI_AUTH": secret} if secret else {},
            package=PACKAGE,
        )
        path = f"{self.root}/{RDB_NAME}"
        archiver.add(path, checked(stream_stdout(cmd), redis_rdb, "Redis RDB"))
        return path

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        from drkit.repository.stream import find_stream, open_stream

        target = local_path(request.target)
        created = _prepare_dir(target, request.force)
        stream = main_stream(request.snapshot)
        size = find_stream(request.repo, request.snapshot, stream).size
        blocks = counted(
            open_stream(request.repo, request.snapshot, stream), request.progress, size
        )
        _install(target / RDB_NAME, blocks)
        notes = (
            f"start Redis on it: redis-server --dir {target} --dbfilename {RDB_NAME} "
            "--appendonly no",
            "with appendonly enabled Redis loads its AOF instead of dump.rdb: start once with "
            "--appendonly no, then `redis-cli config set appendonly yes` rewrites the AOF",
        )
        return RestoreResult(str(target / RDB_NAME), size, created, notes)


def _prepare_dir(target: Path, force: bool) -> bool:
    """Make the data directory if missing (True); refuse one holding Redis data unless forced."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is not a directory", hint="name Redis's data directory")
    if not target.exists():
        target.mkdir(parents=True, mode=0o750)
        return True
    held = [
        name for name in (RDB_NAME, "appendonlydir", "appendonly.aof") if (target / name).exists()
    ]
    if held and not force:
        raise TargetNotEmpty(
            f"{target} already holds Redis data ({', '.join(held)})",
            hint="restore into an empty directory, or pass --force to replace dump.rdb",
        )
    return False


def _install(path: Path, blocks: Iterable[bytes]) -> None:
    """Write the RDB under a temporary name, check it, then rename it into place."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.drkit-", dir=path.parent)
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            for block in blocks:
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        _check_rdb(staged)
        os.chmod(staged, 0o640)
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)


def _check_rdb(path: Path) -> None:
    tool = shutil.which("redis-check-rdb")
    if tool is None:
        return  # optional: the RDB's own checksum is verified again when Redis loads it
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise RestoreFailed(describe_exit("redis-check-rdb", done.returncode, " ".join(detail)))


PLUGIN = Plugin("redis", RedisConfig, RedisSource, schemes=("redis", "rediss"))
