"""Synchronous mode on the leader: one step per cycle between etcd's sync key and PostgreSQL.

Patroni's ``/sync`` key is the model. The key names the standby that holds
every acknowledged write; only that standby may be promoted (see
:func:`drkit.ha.decide.decide`). The order keeps the key true at every
moment:

1. a key another leader wrote, or one that names a standby the leader no
   longer wants, is first rewritten to name none (nobody may take over
   automatically meanwhile: no write can be lost, only availability waits);
2. then ``synchronous_standby_names`` is set to the wanted standby (from now on
   a commit waits for it);
3. once PostgreSQL reports that standby ``sync`` (it streams, caught up, and
   every commit waits for it), the key names it.

So the key never names a standby that may lack an acknowledged write: before
step 3 the key names none, and after it every acknowledged commit waited for
that standby.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from drkit.ha.model import SyncKey


class SyncOp(StrEnum):
    NONE = "none"
    WRITE_KEY = "write-key"
    SET_STANDBYS = "set-standbys"


@dataclass(frozen=True)
class SyncStep:
    op: SyncOp
    sentence: str
    standby: str | None = None
    """WRITE_KEY: the standby the key names (None: none)."""
    names: tuple[str, ...] = ()
    """SET_STANDBYS: synchronous_standby_names' list."""


def sync_step(
    me: str,
    wanted: tuple[str, ...],
    key: SyncKey | None,
    configured: tuple[str, ...],
    reported_sync: tuple[str, ...],
) -> SyncStep:
    """The leader's next step; ``configured`` is what PostgreSQL waits for, ``reported_sync``
    the standbys pg_stat_replication shows ``sync``."""
    named = key.standby if key is not None and key.leader == me else None
    if key is None or key.leader != me:
        return SyncStep(
            SyncOp.WRITE_KEY,
            "sync key: recording no synchronous standby (written by "
            f"{'nobody' if key is None else key.leader}) before naming one",
        )
    if named is not None and named not in wanted:
        return SyncStep(
            SyncOp.WRITE_KEY,
            f"sync key: {named} is no longer wanted synchronous; recording none before changing "
            "synchronous_standby_names",
        )
    if configured != wanted:
        listed = ", ".join(wanted) or "none"
        return SyncStep(SyncOp.SET_STANDBYS, f"synchronous_standby_names: {listed}", names=wanted)
    if wanted and wanted[0] in reported_sync and named != wanted[0]:
        return SyncStep(
            SyncOp.WRITE_KEY,
            f"sync key: {wanted[0]} is synchronous: every commit waits for it",
            standby=wanted[0],
        )
    return SyncStep(SyncOp.NONE, f"sync key: {named or 'none'}, unchanged")


_NAME = re.compile(r'"((?:[^"]|"")*)"|([^\s,()"]+)')


def standby_names(setting: str | None) -> tuple[str, ...]:
    """The standbys a ``synchronous_standby_names`` value lists (``FIRST 1 ("west")``)."""
    if not setting or not setting.strip():
        return ()
    inner = setting
    if "(" in setting and setting.rstrip().endswith(")"):
        inner = setting[setting.index("(") + 1 : setting.rstrip().rindex(")")]
    names = []
    for quoted, bare in _NAME.findall(inner):
        names.append(quoted.replace('""', '"') if quoted else bare)
    return tuple(names)
