"""Split-brain states as critical alerts through the existing alert machinery.

Each :class:`SplitBrainState` is one condition (dedup key per state and
subject, the evidence as details); :func:`reconcile_split_brain` opens,
repeats and resolves them with :func:`drkit.monitor.alerts.reconcile`, scoped
to the split-brain keys so the daemon's other alerts are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from drkit.catalog import Catalog
from drkit.ha.splitbrain.detect import SplitBrainState
from drkit.monitor.alerts import AlertChanges, Send, reconcile
from drkit.monitor.rules import Condition
from drkit.notify.base import Severity

SCOPE = "ha-splitbrain:"


def prefix(cluster: str, observer: str | None = None) -> str:
    """The dedup keys' prefix: per cluster, and per observing agent when given."""
    return f"{SCOPE}{cluster}:" + (f"{observer}:" if observer else "")


def condition(state: SplitBrainState, cluster: str, observer: str | None = None) -> Condition:
    return Condition(
        dedup_key=f"{prefix(cluster, observer)}{state.kind.value}:{state.subject}",
        severity=Severity.CRITICAL,
        summary=f"split brain in {cluster}: {state.summary}",
        source=f"ha cluster {cluster}" + (f", agent {observer}" if observer else ""),
        details=(("kind", state.kind.value), *state.evidence),
    )


def reconcile_split_brain(
    catalog: Catalog,
    states: Sequence[SplitBrainState],
    cluster: str,
    now: datetime,
    *,
    repeat_interval: timedelta,
    send: Send,
    observer: str | None = None,
) -> AlertChanges:
    """Alert on every state now detected; resolve those no longer detected (healed).

    ``observer``: the agent reporting. Each agent owns its keys
    (``ha-splitbrain:<cluster>:<site>:<state>:<subject>``), so agents that see
    different things (a partition seen from each side) never resolve each
    other's alerts in a shared catalog.
    """
    return reconcile(
        catalog,
        [condition(s, cluster, observer) for s in states],
        now,
        repeat_interval=repeat_interval,
        send=send,
        scope=prefix(cluster, observer),
    )
