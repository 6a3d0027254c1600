"""The leader's synchronous-mode steps (drkit.ha.sync): the sync key stays true at every step."""

from __future__ import annotations

import pytest

from drkit.ha.model import SyncKey
from drkit.ha.sync import SyncOp, standby_names, sync_step

E = "east"
CASES = [
    # (id, wanted, key, configured, reported sync, op, standby, names)
    ("no key yet: record none first", ("west",), None, (), (), SyncOp.WRITE_KEY, None, ()),
    (
        "a key another leader wrote: none first, even if it names the standby wanted",
        ("west",),
        SyncKey("west", "east"),
        ("west",),
        ("west",),
        SyncOp.WRITE_KEY,
        None,
        (),
    ),
    (
        "key none: now postgres may wait for the standby",
        ("west",),
        SyncKey(E, None),
        (),
        (),
        SyncOp.SET_STANDBYS,
        None,
        ("west",),
    ),
    (
        "configured, not yet reported sync: the key still names none",
        ("west",),
        SyncKey(E, None),
        ("west",),
        (),
        SyncOp.NONE,
        None,
        (),
    ),
    (
        "reported sync: the key names it",
        ("west",),
        SyncKey(E, None),
        ("west",),
        ("west",),
        SyncOp.WRITE_KEY,
        "west",
        (),
    ),
    (
        "all in place: nothing",
        ("west",),
        SyncKey(E, "west"),
        ("west",),
        ("west",),
        SyncOp.NONE,
        None,
        (),
    ),
    (
        "another standby wanted: the key drops the old one before postgres changes",
        ("west2",),
        SyncKey(E, "west"),
        ("west",),
        ("west",),
        SyncOp.WRITE_KEY,
        None,
        (),
    ),
    (
        "no standby left: out of the key first",
        (),
        SyncKey(E, "west"),
        ("west",),
        (),
        SyncOp.WRITE_KEY,
        None,
        (),
    ),
    (
        "no standby left, key none: postgres stops waiting",
        (),
        SyncKey(E, None),
        ("west",),
        (),
        SyncOp.SET_STANDBYS,
        None,
        (),
    ),
    ("no standby, nothing named: nothing", (), SyncKey(E, None), (), (), SyncOp.NONE, None, ()),
]


@pytest.mark.parametrize(
    ("wanted", "key", "configured", "reported", "op", "standby", "names"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_sync_step(
    wanted: tuple[str, ...],
    key: SyncKey | None,
    configured: tuple[str, ...],
    reported: tuple[str, ...],
    op: SyncOp,
    standby: str | None,
    names: tuple[str, ...],
) -> None:
    step = sync_step(E, wanted, key, configured, reported)
    assert (step.op, step.standby, step.names) == (op, standby, names), step.sentence
    assert step.sentence


def test_the_key_never_names_a_standby_postgres_does_not_wait_for() -> None:
    """Walk every step from every state: a key naming S always has S configured and sync."""
    standbys = ("west", "west2")
    for wanted in [(), ("west",), ("west2",)]:
        key, configured, reported = SyncKey(E, "west"), ("west",), ("west",)
        for _ in range(6):
            step = sync_step(E, wanted, key, configured, reported)
            if step.op is SyncOp.WRITE_KEY:
                key = SyncKey(E, step.standby)
            elif step.op is SyncOp.SET_STANDBYS:
                configured = step.names
                reported = ()  # postgres reports the new standby sync only later
            else:
                reported = configured  # ... and then it does
            if key.standby is not None:
                assert key.standby in configured and key.standby in standbys
        assert key.standby == (wanted[0] if wanted else None)


@pytest.mark.parametrize(
    ("setting", "names"),
    [
        ("", ()),
        (None, ()),
        ('FIRST 1 ("west")', ("west",)),
        ("FIRST 1 (west, west2)", ("west", "west2")),
        ('ANY 2 ("a b", c)', ("a b", "c")),
        ("west", ("west",)),
    ],
)
def test_standby_names(setting: str | None, names: tuple[str, ...]) -> None:
    assert standby_names(setting) == names
