"""drkit.policy.forget: grouping, selection and removal of snapshots (prune's first half)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.errors import SnapshotNotFound, UsageError
from drkit.policy import RetentionPolicy
from drkit.policy import forget as forget_module
from drkit.policy.forget import (
    group_key,
    parse_group_by,
    plan_forget,
    remove_snapshots,
    select_by_id,
)
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def snap(
    n: int, host: str = "a", paths: tuple[str, ...] = ("/srv",), tags: tuple[str, ...] = ()
) -> Snapshot:
    return Snapshot(
        time=T0 + timedelta(hours=n),
        tree=bytes(32),
        paths=list(paths),
        hostname=host,
        username="u",
        tags=list(tags),
        id=f"{n:02d}" + "0" * 62,
    )


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("host,paths", ("host", "paths")),
        (" paths , host ", ("paths", "host")),
        ("host,host", ("host",)),
        ("tags", ("tags",)),
        ("", ()),
    ],
)
def test_parse_group_by(text: str, fields: tuple[str, ...]) -> None:
    assert parse_group_by(text) == fields


def test_parse_group_by_refuses_unknown_fields() -> None:
    with pytest.raises(UsageError, match="user"):
        parse_group_by("host,user")


def test_group_key_ignores_path_and_tag_order() -> None:
    one = snap(1, paths=("/b", "/a"), tags=("y", "x"))
    two = snap(2, paths=("/a", "/b"), tags=("x", "y"))
    fields = ("host", "paths", "tags")
    assert (
        group_key(one, fields)
        == group_key(two, fields)
        == (
            ("host", "a"),
            ("paths", "/a,/b"),
            ("tags", "x,y"),
        )
    )


def test_policy_applies_per_group() -> None:
    snaps = [snap(i, host="a") for i in range(4)] + [snap(10 + i, host="b") for i in range(3)]
    groups = plan_forget(snaps, RetentionPolicy(last=2), ("host",))
    assert [g.key for g in groups] == [(("host", "a"),), (("host", "b"),)]
    assert [s.id[:2] for s in groups[0].decision.keep] == ["03", "02"]
    assert [s.id[:2] for s in groups[0].decision.remove] == ["01", "00"]
    assert [s.id[:2] for s in groups[1].decision.keep] == ["12", "11"]
    assert groups[0].describe() == "host=a"


def test_no_grouping_puts_everything_in_one_group() -> None:
    snaps = [snap(i, host="a") for i in range(2)] + [snap(5, host="b")]
    groups = plan_forget(snaps, RetentionPolicy(last=1), ())
    assert len(groups) == 1 and groups[0].describe() == "all snapshots"
    assert [s.id[:2] for s in groups[0].decision.keep] == ["05"]


def test_select_by_id_resolves_prefixes_once_each() -> None:
    snaps = [snap(i) for i in range(3)]
    chosen = select_by_id(snaps, ["0100", "0200", "01000000", "latest"])
    assert [s.id[:2] for s in chosen] == ["01", "02"]
    with pytest.raises(SnapshotNotFound):
        select_by_id(snaps, ["9999"])


def test_remove_snapshots_passes_a_crash_point_after_each(monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    snaps = [snap(i) for i in range(3)]
    for s in snaps:
        repo.save_snapshot(s)
    seen: list[tuple[str, int]] = []

    def crash_point(name: str) -> None:
        seen.append((name, len(list(repo.backend.list(FileKind.SNAPSHOT)))))

    monkeypatch.setattr(forget_module, "crash_point", crash_point)
    removed = remove_snapshots(repo, snaps[:2])
    assert removed == [snaps[0].id, snaps[1].id]
    assert seen == [("forget-removed", 2), ("forget-removed", 1)]
    assert [s.id for s in repo.snapshots()] == [snaps[2].id]
