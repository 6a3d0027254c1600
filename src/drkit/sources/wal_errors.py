"""Errors of PostgreSQL physical backups, the WAL archive and point-in-time recovery.

DrkitError
├── WalConflict              exit 24  a WAL file already archived with other content
│   └── WalSystemMismatch    exit 24  the file was written by another cluster
├── ChainBroken              exit 25  WAL missing between a base backup and its targets
│   └── WalMissingForTarget  exit 25  pg restore: the WAL to reach the target is missing
├── NoBaseBackup             exit 26  no base backup precedes the recovery target
├── ReceiveRefused           exit 35  pg receive-wal: the server refuses the replication
│   └── SlotMissing          exit 35  pg receive-wal: the replication slot does not exist
├── StreamGap                exit 36  pg receive-wal: the server removed WAL not received
├── RestoreTargetNotEmpty    exit 27  the data directory is not empty (no --force)
├── WalNotArchived           exit 1   wal-fetch: the archive has no such file
├── BaseBackupFailed         exit 1   pg_basebackup failed (server down, refused...)
├── UsageError
│   └── WalNameInvalid       exit 2   not a WAL file name
├── WalFetchFatal          exit 200 wal-fetch: the file could not be restored (any reason
│                                     but "not archived"): PostgreSQL stops recovery
├── IntegrityError
│   └── WalDamaged           exit 13  an archived WAL object fails to authenticate
└── StorageError
    └── WalUnreadable        exit 15  the user who runs recovery cannot read a WAL object
"""

from __future__ import annotations

from drkit.errors import DrkitError, IntegrityError, StorageError, UsageError


class WalConflict(DrkitError):
    code = "wal-conflict"
    exit_code = 24
    default_hint = (
        "two servers archive into the same repository under the same timeline "
        "(a split brain, or a restored copy still archiving); the stored file was kept: "
        "stop the wrong server's archive_command and compare the two with `pg_waldump`"
    )


class WalSystemMismatch(WalConflict):
    code = "wal-system-mismatch"
    default_hint = (
        "run wal-push from the data directory of the cluster that wrote the file "
        "(PostgreSQL does), or pass --system-id"
    )


class ChainBroken(DrkitError):
    code = "wal-chain-broken"
    exit_code = 25
    default_hint = (
        "take a new base backup (`drkit pg basebackup`) so recovery points after the gap "
        "are covered again; check that archive_command is set and succeeding"
    )


class WalMissingForTarget(ChainBroken):
    code = "wal-missing"
    default_hint = (
        "choose an earlier target, or archive the missing WAL (`SELECT pg_switch_wal()` "
        "on the server closes the current segment); `drkit check --chain` lists the gaps"
    )


class NoBaseBackup(DrkitError):
    code = "no-base-backup"
    exit_code = 26
    default_hint = "`drkit pg backups` lists the base backups and their WAL ranges"


class RestoreTargetNotEmpty(DrkitError):
    code = "restore-target-not-empty"
    exit_code = 27
    default_hint = "choose an empty or new directory, or pass --force to empty it first"


class WalNotArchived(DrkitError):
    code = "wal-not-archived"
    exit_code = 1  # restore_command convention: non-zero "not found", below 126
    default_hint = "normal at the end of recovery; otherwise `drkit check --chain`"


class BaseBackupFailed(DrkitError):
    code = "postgres-backup-failed"
    default_hint = (
        "check that the server is running, accepts replication connections from this "
        "host (pg_hba.conf 'replication' line, max_wal_senders) and archives WAL"
    )


class WalNameInvalid(UsageError):
    code = "wal-name-invalid"
    default_hint = "wal-push and wal-fetch take WAL file names as PostgreSQL passes them (%f, %p)"


class WalDamaged(IntegrityError):
    code = "wal-damaged"
    default_hint = "restore the object from another copy of the repository; `drkit check --chain`"


class WalUnreadable(StorageError):
    code = "wal-unreadable"
    default_hint = "give the user who runs recovery read access to the repository"


class ReceiveRefused(DrkitError):
    code = "wal-receive-refused"
    exit_code = 35
    default_hint = (
        "the role needs REPLICATION (or superuser), pg_hba.conf a 'replication' line for "
        "this host, and the server max_wal_senders above the senders in use"
    )


class SlotMissing(ReceiveRefused):
    code = "wal-slot-missing"
    default_hint = (
        "create it: pass --create-slot, or run SELECT pg_create_physical_replication_slot("
        "'NAME') on the server; a slot keeps the server's WAL until it is received"
    )


class StreamGap(DrkitError):
    code = "wal-stream-gap"
    exit_code = 36
    default_hint = (
        "the WAL from that segment on is lost to the repository: take a new base backup "
        "(`drkit pg basebackup`), empty the receive folder, start receive-wal again, and "
        "use a replication slot (--slot, --create-slot) so the server keeps its WAL until "
        "it is received"
    )


# PostgreSQL takes an exit status above 125 (or death by a signal) from restore_command
# as fatal and stops recovery; any other non-zero status means "no such file", and
# recovery ends there and promotes. 126 and 127 would read "command not executable/not
# found" in the server log, and 129-192 look like deaths by a signal to shells: 200.
RESTORE_COMMAND_FATAL = 200


class WalFetchFatal(DrkitError):
    code = "wal-fetch-failed"
    exit_code = RESTORE_COMMAND_FATAL
    default_hint = (
        "recovery stopped here instead of ending early; fix the cause and start the server "
        "again: it resumes recovery where it stopped"
    )


ALL_WAL_ERRORS: tuple[type[DrkitError], ...] = (
    WalConflict,
    WalSystemMismatch,
    ChainBroken,
    WalMissingForTarget,
    NoBaseBackup,
    RestoreTargetNotEmpty,
    WalNotArchived,
    BaseBackupFailed,
    WalNameInvalid,
    WalDamaged,
    WalUnreadable,
    WalFetchFatal,
    ReceiveRefused,
    SlotMissing,
    StreamGap,
)
