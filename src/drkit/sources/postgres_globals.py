"""Roles and tablespaces of a PostgreSQL server, dumped beside a database (``globals: true``).

``pg_dump`` leaves out what belongs to the whole server: roles (with their
memberships and passwords) and tablespaces. With ``globals: true`` a logical
backup also stores ``pg_dumpall --globals-only`` as ``globals.sql`` in the
same snapshot (the snapshot's meta names it), and a restore replays it into
the target server first, so the objects of the dump find their owners.
Replaying runs ``psql`` without stopping on errors: a role that already exists
on the target is kept as it is (its "already exists" error is counted and
reported as a note, not a failure). Dumping globals needs a superuser (role
passwords live in ``pg_authid``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drkit.sources.base import RestoreRequest
from drkit.sources.dump_checks import checked
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.process import Command, feed_stdin, stream_stdout

if TYPE_CHECKING:  # the repository's stream code loads when a dump or restore runs
    from drkit.repository.stream import StreamArchiver

META_GLOBALS = "postgres.globals"  # the path of globals.sql in the snapshot
PACKAGE = "postgresql-client"


def pg_globals(head: bytes, tail: bytes, size: int) -> str | None:
    """pg_dumpall --globals-only: its opening and closing comments."""
    if b"PostgreSQL database cluster dump" not in head[:512]:
        return "it does not start with pg_dumpall's 'PostgreSQL database cluster dump' comment"
    if b"PostgreSQL database cluster dump complete" not in tail[-512:]:
        return "the closing 'dump complete' comment is missing: pg_dumpall stopped early"
    return None


def dump_globals(address: PgAddress, tool: str, archiver: StreamArchiver, root: str) -> str:
    """Store the server's roles and tablespaces at ``root/globals.sql``; return the path."""
    cmd = Command(
        [tool, "--globals-only", "--no-password", f"--dbname={address.conninfo()}"],
        env=address.env(),
        package=PACKAGE,
    )
    path = f"{root}/globals.sql"
    archiver.add(path, checked(stream_stdout(cmd), pg_globals, "pg_dumpall output"))
    return path


def restore_globals(request: RestoreRequest, target: PgAddress, tool: str) -> str | None:
    """Replay the snapshot's globals into the target server; a note on what was kept."""
    from drkit.repository.stream import find_stream, open_stream

    path = request.snapshot.meta.get(META_GLOBALS)
    if not path:
        return None
    find_stream(request.repo, request.snapshot, path)
    cmd = Command(
        [
            tool,
            "-X",
            "-q",
            "--no-password",
            f"--dbname={target.with_database('postgres').conninfo()}",
        ],
        env=target.env(),
        package=PACKAGE,
    )
    stderr = feed_stdin(cmd, open_stream(request.repo, request.snapshot, path))
    kept = stderr.count("already exists")
    others = [
        line for line in stderr.splitlines() if "ERROR" in line and "already exists" not in line
    ]
    note = f"roles and tablespaces replayed from {path}"
    if kept:
        note += f"; {kept} already existed on the target and were kept as they are"
    if others:
        note += f"; {len(others)} other error(s), first: {others[0].strip()}"
    return note
