"""render_split_brain(): a gauge per state kind, 1 when detected and 0 once healed."""

from __future__ import annotations

from drkit.ha.splitbrain.detect import Kind, SplitBrainState
from drkit.ha.splitbrain.metrics import render_split_brain
from drkit.ha.splitbrain.resolve import FenceStep, Outcome, Resolution

TWO = SplitBrainState(Kind.TWO_PRIMARIES, "east+west", "2 writable", ())
FENCE = Resolution(Outcome.FENCE, "fencing", (FenceStep.LB_DRAIN,), votes=("west",))
NOTHING = Resolution(Outcome.NOTHING, "no action", votes=("west", "east", "witness"))


def test_detected_then_healed() -> None:
    split = render_split_brain("pg", "west", [TWO], FENCE)
    assert 'drkit_ha_split_brain{cluster="pg",site="west",state="two-primaries"} 1' in split
    assert 'drkit_ha_split_brain{cluster="pg",site="west",state="divergent-dns"} 0' in split
    assert 'drkit_ha_split_brain_fencing{cluster="pg",site="west"} 1' in split
    healed = render_split_brain("pg", "west", [], NOTHING)
    assert 'drkit_ha_split_brain{cluster="pg",site="west",state="two-primaries"} 0' in healed
    assert 'drkit_ha_split_brain_votes{cluster="pg",site="west"} 3' in healed
    assert 'drkit_ha_split_brain_fencing{cluster="pg",site="west"} 0' in healed
