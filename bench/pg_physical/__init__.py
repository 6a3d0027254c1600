"""Physical PostgreSQL benchmark: ``drkit pg basebackup`` against ``pg_basebackup -Ft`` + restic.

Run from the repository root as root, with PostgreSQL 15 binaries in
/usr/lib/postgresql/15/bin, pgbench and restic installed::

    python3 -m bench.pg_physical [--scale 50] [--segments 20] [--work bench/work/pg_physical]
                                 [--output FILE.json] [--markdown FILE.md] [--keep]

A private cluster is made with initdb (as ``postgres``, free port) and filled
by ``pgbench -i -s SCALE`` (untimed). Then:

- **drkit**: ``archive_command`` becomes ``drkit wal-push %p`` into drkit's
  repository; ``drkit pg basebackup`` (pg_basebackup's tar stream chunked
  straight into the repository; the server waits until the backup's WAL is
  archived); the same again with nothing changed; ``drkit pg restore --latest``
  into a new directory (the tar streamed out and unpacked).
- **baseline**: ``archive_command`` becomes ``/bin/true``;
  ``pg_basebackup -D DIR -Ft -X stream`` then ``restic backup DIR`` (times
  added up); the same again; ``restic restore latest`` then ``tar -xf`` of
  base.tar into a directory.

Both restored directories are verified with ``pg_verifybackup -n`` against
the backup manifest pg_basebackup wrote (every file's checksum); a failure
makes the exit status 1. Finally ``drkit wal-push`` is timed on ``--segments``
real 16 MiB segments copied out of pg_wal (each a new process, as
PostgreSQL runs it), and the same number of ``wal-fetch``. The CPU of the
server and of its archiver is not counted on either side.
"""
