"""The manual actions' audit trail kept twice: in etcd (what the agents act on) and the catalog.

Each override, lift, pause, resume, fence and unfence is one entry in etcd's
history and one row of the catalog's audit log (``audit_log``, action
``ha.<action>``, target ``ha:<cluster>/<site>``, the entry's JSON as detail).

Which wins: neither; both hold the same append-only trail, and the trail is
their **union**, by entry (action, who, when, site), in time order. What is in
force (the override, the hand fences, the pause) follows from that union, so a
lost copy (an etcd wiped or rebuilt, a catalog restored from an older backup)
forgets nothing and undoes nothing: only a recorded opposite action (lift,
unfence, resume) or an override's expiry ends one. An agent that starts puts
the entries etcd lacks back into etcd (:func:`restore`), and the pause key
when the union ends paused.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from drkit.errors import DrkitError
from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.splitbrain.audit import AuditEntry, ManualAction, audit_trail, parse_entry

if TYPE_CHECKING:
    from drkit.catalog import Catalog

log = logging.getLogger("drkit.ha.audit")
ACTION_PREFIX = "ha."


class CatalogTrailError(DrkitError):
    code = "ha-audit-catalog"
    exit_code = 1


def _target(cluster: str, site: str | None) -> str:
    return f"ha:{cluster}/{site or ''}"


def identity(item: AuditEntry) -> tuple[str, str, float, str | None]:
    return (item.action.value, item.who, round(item.at, 6), item.site)


def keep(catalog: Catalog, cluster: str, item: AuditEntry) -> None:
    """One row of the catalog's audit log for ``item`` (raises CatalogTrailError)."""
    from drkit.catalog.types import utcnow
    from drkit.users.audit import AuditEntry as LogEntry
    from drkit.users.audit import Outcome, record

    row = LogEntry(
        actor=item.who,
        via="cli",
        origin=f"host:{socket.gethostname()}",
        action=ACTION_PREFIX + item.action.value,
        target=_target(cluster, item.site),
        outcome=Outcome.OK,
        detail=json.dumps(dict(item.record()), sort_keys=True),
    )
    try:
        with catalog.session() as s:
            record(s, row, utcnow())
    except Exception as exc:  # the catalog's driver errors are many; all mean "not kept"
        raise CatalogTrailError(
            f"{item.action.value} is recorded in etcd (in force) but not in the catalog: {exc}",
            hint="check catalog.url in drkit.yaml; the agents keep acting on etcd's record",
        ) from exc


def keep_rejoin(
    catalog: Catalog, cluster: str, site: str, who: str, report: dict[str, Any]
) -> None:
    """The rejoin and its diverged-writes report, in the catalog's audit log (``ha.rejoin``).

    What a rewind discarded stays on record, with who let it.
    """
    from drkit.catalog.types import utcnow
    from drkit.users.audit import AuditEntry as LogEntry
    from drkit.users.audit import Outcome, record

    row = LogEntry(
        actor=who,
        via="cli",
        origin=f"host:{socket.gethostname()}",
        action=ACTION_PREFIX + "rejoin",
        target=_target(cluster, site),
        outcome=Outcome.OK,
        detail=json.dumps(report, sort_keys=True),
    )
    try:
        with catalog.session() as s:
            record(s, row, utcnow())
    except Exception as exc:
        raise CatalogTrailError(
            f"{site} was rejoined but its diverged-writes report is not in the catalog: {exc}",
            hint="the report is in this command's output: keep it",
        ) from exc


def catalog_trail(catalog: Catalog, cluster: str) -> tuple[AuditEntry, ...]:
    """This cluster's entries in the catalog, oldest first."""
    from drkit.users.audit import entries

    with catalog.session() as s:
        rows = entries(s, limit=100_000, action=ACTION_PREFIX)
    found = []
    for row in rows:
        if not row.target.startswith(f"ha:{cluster}/"):
            continue
        try:
            loaded: Any = json.loads(row.detail)
        except ValueError:
            continue
        item = parse_entry(loaded) if isinstance(loaded, dict) else None
        if item is not None:
            found.append(item)
    return tuple(sorted(found, key=lambda e: e.at))


def union(*trails: Iterable[AuditEntry]) -> tuple[AuditEntry, ...]:
    """Every entry of any trail once, in time order (the rule: a copy's loss forgets nothing)."""
    seen: dict[tuple[str, str, float, str | None], AuditEntry] = {}
    for trail in trails:
        for item in trail:
            seen.setdefault(identity(item), item)
    return tuple(sorted(seen.values(), key=lambda e: e.at))


def paused_by(trail: tuple[AuditEntry, ...]) -> AuditEntry | None:
    """The pause the trail leaves in force (the last pause with no resume after it)."""
    for item in reversed(trail):
        if item.action is ManualAction.RESUME:
            return None
        if item.action is ManualAction.PAUSE:
            return item
    return None


def restore(dcs: DCS, catalog: Callable[[], Catalog], cluster: str) -> int:
    """Put back into etcd the entries only the catalog has (and the pause); how many.

    For an agent that starts: after an etcd wipe the override, the hand fences
    and the pause are in force again before its first cycle.
    """
    view = dcs.read()
    in_etcd = audit_trail(view)
    kept = catalog_trail(catalog(), cluster)
    known = {identity(e) for e in in_etcd}
    missing = [e for e in kept if identity(e) not in known]
    for item in missing:
        dcs.append_history(item.record())
    pause = paused_by(union(in_etcd, kept))
    if missing and pause is not None and view.pause is None:
        dcs.set_pause({"who": pause.who, "reason": pause.reason, "at": pause.at})
    if missing:
        log.warning(
            "restored %d manual action(s) into etcd from the catalog (etcd had lost them)",
            len(missing),
        )
    return len(missing)
