"""WAL archiving at rising WAL rates: drkit sync, drkit async (spool + pusher), pgBackRest.

``python3 -m bench.pg_archive`` starts a private PostgreSQL 15 cluster (as
``postgres``), then for each archiver and each pgbench rate (``-R`` tx/s,
rising, the last unthrottled) runs pgbench for a fixed time with a script of
bulk inserts (``--rows`` rows of 500 bytes per transaction, about 1.1 MB of
WAL each: the builtin TPC-B script makes too little WAL on a small machine
to load any archiver) and measures:

- the WAL rate the server generated (MB/s, from ``pg_current_wal_lsn``);
- the archive lag, sampled twice a second: closed segments not yet *in the
  repository* (not merely accepted by ``archive_command``: an asynchronous
  archiver says yes before it sends), its maximum in MB during the run;
- the drain time: after pgbench stops and the segment is switched, how long
  until the last segment is in the repository.

An archiver keeps up with a rate when its lag stays bounded (a few segments)
and the drain is short. Requires: postgresql-15, pgbench, and the Debian
package ``pgbackrest`` (``apt-get install pgbackrest``), run as root.
"""
