"""PostgreSQL physical base backups over the replication protocol, streamed into the repository.

``pg_basebackup -D - -Ft -X none`` writes the cluster as one tar stream on
its standard output; drkit chunks it on the fly into the repository (no
temporary copy of the cluster) and stores it as ``base.tar`` in the
snapshot. Why ``-X none``: the WAL a base backup needs comes from the WAL
archive (``archive_command = 'drkit wal-push %p'``) into the same
repository, and with ``-X none`` the server itself waits, before the backup
ends, until every segment up to the backup's stop point is archived
(``-X fetch`` or ``stream`` would tell it not to wait and would store the
same WAL twice). drkit then reads the backup history file the server
archived, which gives the stop LSN, and records a snapshot only if that
file is in every destination repository: a backup whose WAL went elsewhere
could never be restored.

The snapshot's meta (:class:`PhysicalBackupInfo`) holds the start and stop
LSN, timeline, system identifier, WAL segment size and the server's clock
before and after the backup. Clusters with extra tablespaces are refused by
pg_basebackup in this mode (one tar stream holds one tablespace).

```yaml
sources:
  - {type: postgres-physical, dsn: "host=db1 user=replicator", password_file: /etc/drkit/pg.pw}
```
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from drkit.plugins import Plugin
from drkit.sources.base import RestoreRequest, RestoreResult, SourceConfig, StreamSource
from drkit.sources.errors import DumpFailed
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.postgres_physical_meta import (
    PREFIX,
    SOURCE_TYPE,
    STREAM_NAME,
    BackupLabel,
    PhysicalBackupInfo,
    parse_label,
)
from drkit.sources.process import Command, stream_stdout
from drkit.sources.sql_checks import SqlCheck
from drkit.sources.wal_errors import BaseBackupFailed, WalNotArchived
from drkit.sources.wal_names import segment_name, segment_of

if TYPE_CHECKING:  # the tar scanner, the archive watchdog and the WAL archive load when a
    # base backup runs, not when drkit.yaml names a physical source
    from drkit.repository.stream import StreamArchiver
    from drkit.sources.postgres_physical_tar import TarScanner
    from drkit.sources.wal_archive import WalArchive

PACKAGE = "postgresql-client (the version of the server or newer)"
POLL_S = 0.2

_FACTS = """
select (select system_identifier from pg_control_system()),
       (select timeline_id from pg_control_checkpoint()),
       (select setting::bigint from pg_settings where name = 'wal_segment_size'),
       current_setting('server_version'),
       current_setting('archive_mode'),
       current_setting('archive_command'),
       current_setting('wal_level'),
       clock_timestamp()
"""


class PostgresPhysicalConfig(SourceConfig):
    """A whole PostgreSQL cluster, copied physically with pg_basebackup."""

    type: Literal["postgres-physical"] = "postgres-physical"
    dsn: str = Field(description="host=... port=... user=... of a role with REPLICATION.")
    password_file: Path | None = Field(default=None, description="File holding the password.")
    bin_dir: Path | None = Field(default=None, description="Folder of pg_basebackup.")
    checkpoint: Literal["fast", "spread"] = Field(
        default="fast", description="fast: start at once; spread: spread the checkpoint's I/O."
    )
    checks: list[SqlCheck] = Field(
        default_factory=list,
        description="Queries a restore test runs on the recovered cluster (see sql_checks).",
    )
    archive_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to wait for the backup's WAL in the archive."
    )
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for the server.")
    archive_check: str = Field(
        default="0 * * * *",
        description="Cron of the daemon's end-to-end archive check (drkit pg check: a forced "
        "WAL switch, then the segment awaited in each repository); '' turns it off.",
    )
    archive_lag: float = Field(
        default=120.0,
        gt=0,
        description="Seconds the forced segment may take to reach a repository; longer, or "
        "never, fails the check and raises the job's alert.",
    )
    wal_reprove: str = Field(
        default="7d",
        description="The archive check reads again each archived WAL segment proved intact "
        "longer ago than this, so a segment damaged since it was proved is a gap in the "
        "recovery point (and the RPO alert names it) within this period.",
    )

    @field_validator("wal_reprove")
    @classmethod
    def _age(cls, value: str) -> str:
        from drkit.errors import DrkitError
        from drkit.settings.objectives import parse_objective

        try:
            parse_objective(value)
        except DrkitError as exc:
            raise ValueError(f"{exc.message}: {exc.hint}") from None
        return value.strip()

    @field_validator("archive_check")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        expression = " ".join(value.split())
        if expression and (len(expression.split()) != 5 or not croniter.is_valid(expression)):
            raise ValueError(
                f"{value!r} is not a cron expression: write five fields such as '0 * * * *', "
                "or '' for no archive check"
            )
        return expression

    def address(self) -> PgAddress:
        """The server; without a dbname the checks connect to ``postgres`` (libpq would
        take the user's name, a database that rarely exists for a replication user)."""
        address = PgAddress.parse(self.dsn, self.password_file)
        return address if address.dbname else address.with_database("postgres")

    def describe(self) -> str:
        return f"postgres-physical {self.address().endpoint}"


class PostgresPhysicalSource(StreamSource[PostgresPhysicalConfig]):
    type = SOURCE_TYPE
    _probed: tuple[Any, ...] = ()  # the server's facts, read by probe() before dump()

    @property
    def root(self) -> str:
        return f"/{SOURCE_TYPE}/{self.config.address().endpoint}"

    def probe(self) -> dict[str, str]:
        facts = self._facts()
        _require_archiving(facts)
        self._probed = facts
        return {PREFIX + "server_version": str(facts[3])}

    def _facts(self) -> tuple[Any, ...]:
        with self.config.address().connect(timeout=self.config.connect_timeout) as conn:
            row = conn.execute(_FACTS).fetchone()
        assert row is not None
        return tuple(row)

    def dump(self, archiver: StreamArchiver) -> str:
        from drkit.sources.postgres_physical_tar import TarScanner
        from drkit.sources.postgres_physical_watch import ArchiveWatchdog

        sysid, _tli, seg_size, version, *_, started = self._probed
        scanner = TarScanner({"backup_label"})
        path = f"{self.root}/{STREAM_NAME}"
        app_name = f"drkit-basebackup-{secrets.token_hex(6)}"  # finds our WAL sender
        timeout = self.config.archive_timeout
        watchdog = ArchiveWatchdog(self.config.address(), app_name, timeout)
        watchdog.start()
        try:
            archiver.add(path, scanner.watch(stream_stdout(self._command(app_name))))
        except DumpFailed as exc:
            if watchdog.fired:
                raise BaseBackupFailed(
                    f"the server waited more than {timeout:g} s for the backup's WAL to be "
                    "archived; the backup was stopped and no snapshot was saved",
                    hint="archive_command is failing: see the server log and pg_stat_archiver",
                ) from exc
            raise
        finally:
            watchdog.stop()
        label = _label(scanner)
        stopped = self._facts()[-1]
        history_name = _history_name(label, int(seg_size))
        stop = self._stop_label(archiver, int(sysid), history_name)
        info = PhysicalBackupInfo(
            system_identifier=int(sysid),
            timeline=label.start_timeline,
            start_lsn=label.start_lsn,
            stop_lsn=stop.stop_lsn or label.start_lsn,
            checkpoint_lsn=label.checkpoint_lsn,
            start_time=started,
            stop_time=stopped,
            wal_segment_size=int(seg_size),
            server_version=str(version),
            backup_history_file=history_name,
            stream=path,
        )
        archiver.meta.update(info.to_meta())
        return path

    def _command(self, application_name: str) -> Command:
        address = self.config.address()
        tool = (
            str(self.config.bin_dir / "pg_basebackup") if self.config.bin_dir else "pg_basebackup"
        )
        label = f"drkit {datetime.now().astimezone().isoformat(timespec='seconds')}"
        conninfo = f"{address.conninfo()} application_name={application_name}"
        argv = [tool, "-d", conninfo, "-D", "-", "-Ft", "-X", "none"]
        argv += ["-c", self.config.checkpoint, "-l", label, "--no-password"]
        return Command(argv, env=address.env(), package=PACKAGE)

    def _stop_label(self, archiver: StreamArchiver, sysid: int, name: str) -> BackupLabel:
        """The backup history file from every destination, waiting for the archiver."""
        from drkit.sources.wal_archive import WalArchive

        texts = [
            _wait_for(WalArchive(dest.repo), sysid, name, self.config.archive_timeout)
            for dest in archiver.fan.destinations
        ]
        return parse_label(texts[0])

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        """Unpack the snapshot into the target folder and recover to the end of the WAL."""
        from drkit.sources.pitr_restore import restore_snapshot_latest

        return restore_snapshot_latest(request)


def _require_archiving(facts: tuple[Any, ...]) -> None:
    archive_mode, archive_command, wal_level = str(facts[4]), str(facts[5]), str(facts[6])
    if wal_level == "minimal" or archive_mode == "off" or not archive_command.strip():
        raise BaseBackupFailed(
            f"the server does not archive WAL (wal_level={wal_level}, archive_mode="
            f"{archive_mode}, archive_command={archive_command!r}): a base backup without "
            "archived WAL cannot be restored",
            hint="set wal_level = replica, archive_mode = on and archive_command = "
            "'drkit wal-push %p' (with this repository), restart the server, then back up",
        )


def _label(scanner: TarScanner) -> BackupLabel:
    raw = scanner.kept.get("backup_label")
    if raw is None:
        raise DumpFailed("pg_basebackup's output holds no backup_label: not a base backup")
    try:
        return parse_label(raw.decode("utf-8", "replace"))
    except ValueError as exc:
        raise DumpFailed(f"the backup_label cannot be read: {exc}") from None


def _history_name(label: BackupLabel, segment_size: int) -> str:
    segno = segment_of(label.start_lsn, segment_size)
    offset = label.start_lsn % segment_size
    return f"{segment_name(label.start_timeline, segno, segment_size)}.{offset:08X}.backup"


def _wait_for(archive: WalArchive, sysid: int, name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return archive.fetch(sysid, name).decode("utf-8", "replace")
        except WalNotArchived:
            if time.monotonic() >= deadline:
                raise BaseBackupFailed(
                    f"the backup history file {name} did not reach the WAL archive of "
                    f"{archive.backend.location} within {timeout:g} s; no snapshot was saved",
                    hint="archive_command must push into this repository "
                    "(`drkit wal-push %p` with the same DRKIT_REPO); see pg_stat_archiver",
                ) from None
        time.sleep(POLL_S)


PLUGIN = Plugin("postgres-physical", PostgresPhysicalConfig, PostgresPhysicalSource)
