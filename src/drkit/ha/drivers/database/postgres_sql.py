"""The SQL the PostgreSQL driver reads its state with (LSNs as byte numbers)."""

from __future__ import annotations

PRIMARY = """
select pg_current_wal_lsn() - '0/0'::pg_lsn,
       ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int,
       current_setting('synchronous_standby_names')
"""

REPLICAS = """
select application_name, client_addr::text, state, sync_state,
       sent_lsn - '0/0'::pg_lsn, replay_lsn - '0/0'::pg_lsn,
       pg_current_wal_lsn() - replay_lsn, extract(epoch from replay_lag)
from pg_stat_replication order by application_name
"""

SLOTS_PRIMARY = """
select slot_name, active, restart_lsn - '0/0'::pg_lsn, pg_current_wal_lsn() - restart_lsn
from pg_replication_slots order by slot_name
"""

SLOTS_REPLICA = """
select slot_name, active, restart_lsn - '0/0'::pg_lsn, null
from pg_replication_slots order by slot_name
"""

REPLICA = """
select pg_last_wal_receive_lsn() - '0/0'::pg_lsn,
       pg_last_wal_replay_lsn() - '0/0'::pg_lsn,
       case when pg_last_wal_receive_lsn() is null
                 or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0
            else extract(epoch from now() - pg_last_xact_replay_timestamp()) end,
       (select status from pg_stat_wal_receiver),
       coalesce((select received_tli from pg_stat_wal_receiver),
                (select timeline_id from pg_control_checkpoint())),
       current_setting('synchronous_standby_names')
"""
