"""After a stall, a lease holder's minority fence waits a grace; nothing else is held back."""

from __future__ import annotations

from drkit.ha.splitbrain.resolve import FenceStep, Outcome, Resolution
from drkit.ha.splitbrain.stall import after_stall, grace_s, stall_threshold_s

FENCE = Resolution(
    Outcome.FENCE,
    "fencing east: its database is writable in a minority (1 of 3 votes)",
    steps=(FenceStep.DATABASE_READ_ONLY,),
    votes=("east",),
)


def held(resolution: Resolution, **kw: object) -> Resolution:
    args: dict[str, object] = {
        "me": "east", "leads": True, "hand_fenced": False, "stalled_s": 3.0, "grace_left_s": 2.0,
    }  # fmt: skip
    args.update(kw)
    return after_stall(resolution, **args)  # type: ignore[arg-type]


def test_a_lease_holder_back_from_a_stall_waits_before_a_minority_fence() -> None:
    out = held(FENCE)
    assert out.outcome is Outcome.NOTHING and out.steps == ()
    assert "back from a 3.0 s stall" in out.sentence and "in a minority" in out.sentence


def test_nothing_is_held_back_past_the_grace_without_the_lease_or_when_fenced_by_hand() -> None:
    assert held(FENCE, grace_left_s=0.0) is FENCE
    assert held(FENCE, leads=False) is FENCE  # no lease: nothing protects the others
    assert held(FENCE, hand_fenced=True) is FENCE
    keep = Resolution(Outcome.KEEP_PRIMARY, "keeping the primary", votes=("east", "west"))
    assert held(keep) is keep


def test_threshold_and_grace_follow_the_timings() -> None:
    assert stall_threshold_s(1.0, 1.0, 1.0) == 4.5  # a whole cycle and a loop more
    assert stall_threshold_s(0.5, 0.5, 0.6) < 3.0  # the tests' timings: a 3 s freeze is one
    assert grace_s(1.0, 1.0, 2) == 4.5
