"""The rule when etcd's and the catalog's copies of the manual actions differ: their union."""

from __future__ import annotations

from drkit.ha.splitbrain.audit import AuditEntry, ManualAction, active_override, fenced_sites
from drkit.ha.splitbrain.kept import paused_by, union


def _e(action: ManualAction, at: float, site: str | None = None) -> AuditEntry:
    return AuditEntry(action, "ann", at, "why", site)


OVERRIDE = _e(ManualAction.OVERRIDE, 1.0, "west")
FENCE = _e(ManualAction.FENCE, 2.0, "east")
PAUSE = _e(ManualAction.PAUSE, 3.0)
UNFENCE = _e(ManualAction.UNFENCE, 4.0, "east")


def test_a_lost_copy_forgets_nothing() -> None:
    both = union((), (OVERRIDE, FENCE, PAUSE))  # etcd wiped, the catalog keeps all
    assert both == (OVERRIDE, FENCE, PAUSE)
    assert active_override(both, now=10.0) is not None and fenced_sites(both) == {"east"}
    assert paused_by(both) == PAUSE


def test_the_union_is_in_time_order_and_has_each_entry_once() -> None:
    # etcd rebuilt with a new entry before the old ones came back from the catalog
    assert union((UNFENCE, OVERRIDE), (OVERRIDE, FENCE, PAUSE)) == (OVERRIDE, FENCE, PAUSE, UNFENCE)


def test_only_a_recorded_opposite_action_undoes_one() -> None:
    # the catalog restored from an older backup lacks the unfence: etcd's copy still has it
    trail = union((OVERRIDE, FENCE, PAUSE, UNFENCE), (OVERRIDE, FENCE))
    assert fenced_sites(trail) == frozenset()
    resumed = union(trail, (_e(ManualAction.RESUME, 5.0),))
    assert paused_by(resumed) is None and paused_by(trail) == PAUSE
