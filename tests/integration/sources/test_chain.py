"""drkit check --chain on a real archive: whole chains pass; a deleted segment is named,
with the base backups and recovery points it makes unreachable."""

from __future__ import annotations

import json
from typing import Any

from drkit.sources.wal_names import parse_lsn, segment_name, segment_of
from tests.fixtures.pgcluster import PgCluster, PgLab

SEG = 16 * 1024 * 1024


def backup(lab: PgLab, cluster: PgCluster) -> dict[str, Any]:
    done = lab.drkit("pg", "basebackup", "--dsn", cluster.dsn, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def segments(cluster: PgCluster, count: int) -> list[str]:
    names = []
    for _ in range(count):
        cluster.sql("create table if not exists c as select 1 x")
        cluster.sql("insert into c values (2)")
        names.append(cluster.switch_wal())
    return names


def chain(lab: PgLab) -> tuple[int, dict[str, Any], str]:
    done = lab.drkit("check", "--chain", "--json")
    text = lab.drkit("check", "--chain")
    assert text.returncode == done.returncode
    return done.returncode, json.loads(done.stdout), text.stdout + text.stderr


def delete_segment(lab: PgLab, cluster: PgCluster, name: str) -> None:
    sysid = cluster.one("select system_identifier from pg_control_system()")
    (lab.repo / "wal" / f"{sysid}-{name}").unlink()


def start_segment(meta: dict[str, Any]) -> str:
    return segment_name(1, segment_of(parse_lsn(meta["start_lsn"]), SEG), SEG)


def test_a_whole_chain_passes(pglab: PgLab) -> None:
    primary = pglab.cluster()
    first = backup(pglab, primary)
    segments(primary, 2)
    second = backup(pglab, primary)
    primary.wait_archived(segments(primary, 2)[-1])
    code, report, text = chain(pglab)
    assert code == 0, text
    assert report["ok"] and report["chain"]["ok"]
    statuses = {b["backup_id"]: b["status"] for b in report["chain"]["backups"]}
    assert statuses == {first["snapshot"]: "ok", second["snapshot"]: "ok"}
    assert report["chain"]["unreachable"] == [] and report["chain"]["first_missing"] == []
    assert "no gap" in text and "no errors were found" in text


def test_a_missing_segment_is_named_with_what_it_makes_unreachable(pglab: PgLab) -> None:
    primary = pglab.cluster()
    first = backup(pglab, primary)
    between = segments(primary, 3)
    second = backup(pglab, primary)
    primary.wait_archived(segments(primary, 2)[-1])
    gone = between[1]
    delete_segment(pglab, primary, gone)

    code, report, text = chain(pglab)
    assert code == 25, text
    c = report["chain"]
    assert not report["ok"] and not c["ok"]
    assert c["first_missing"] == [gone]
    by_id = {b["backup_id"]: b for b in c["backups"]}
    assert by_id[first["snapshot"]]["status"] == "truncated"
    assert by_id[first["snapshot"]]["first_missing"] == gone
    assert by_id[second["snapshot"]]["status"] == "ok"
    (gap,) = c["unreachable"]
    assert gap["first_missing"] == gone
    assert gap["until_backup"] == second["snapshot"]
    assert gap["until_lsn"] == second["stop_lsn"]
    assert gone in text and "unreachable" in text and first["snapshot"][:8] in text
    assert "error: the backup chain is broken" in text
    assert "no errors were found" not in text


def test_a_segment_missing_inside_a_backup_makes_it_unusable(pglab: PgLab) -> None:
    primary = pglab.cluster()
    only = backup(pglab, primary)
    primary.wait_archived(segments(primary, 1)[-1])
    delete_segment(pglab, primary, start_segment(only))
    code, report, text = chain(pglab)
    assert code == 25, text
    (b,) = report["chain"]["backups"]
    assert b["status"] == "broken" and b["first_missing"] == start_segment(only)
    assert "cannot be restored" in text
    done = pglab.drkit("pg", "restore", "--to", str(pglab.base / "x"))
    assert done.returncode == 25 and start_segment(only) in done.stderr


def test_forget_and_prune_keep_the_wal(pglab: PgLab) -> None:
    primary = pglab.cluster()
    first = backup(pglab, primary)
    segments(primary, 2)
    backup(pglab, primary)
    primary.wait_archived(segments(primary, 1)[-1])
    wal_before = sorted(p.name for p in (pglab.repo / "wal").iterdir())
    done = pglab.drkit("forget", first["snapshot"][:8], "--prune")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (pglab.repo / "wal").iterdir()) == wal_before
    code, report, text = chain(pglab)
    assert code == 0, text
    assert [b["status"] for b in report["chain"]["backups"]] == ["ok"]


def test_expire_wal_follows_forget_and_keeps_the_chain_whole(pglab: PgLab) -> None:
    primary = pglab.cluster()
    first = backup(pglab, primary)
    segments(primary, 3)
    second = backup(pglab, primary)
    primary.wait_archived(segments(primary, 2)[-1])

    dry = json.loads(pglab.drkit("pg", "expire-wal", "--dry-run", "--json").stdout)
    # only what is older than the first backup may go, and a dry run removes nothing
    assert all(name[:24] < start_segment(first) for name in dry["removed"])
    assert pglab.drkit("pg", "expire-wal", "--dry-run", "--json").stdout == json.dumps(dry) + "\n"

    assert pglab.drkit("forget", first["snapshot"]).returncode == 0
    dry = json.loads(pglab.drkit("pg", "expire-wal", "--dry-run", "--json").stdout)
    text = pglab.drkit("pg", "expire-wal", "--dry-run").stdout  # the same list, as text
    assert dry["removed"] and all(f"would remove {name} " in text for name in dry["removed"])
    before = set((pglab.repo / "wal").iterdir())
    done = pglab.drkit("pg", "expire-wal", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    keep_from = start_segment(second)
    assert report["removed"] and all(
        name[:24] < keep_from for name in report["removed"] if not name.endswith(".history")
    )
    after = set((pglab.repo / "wal").iterdir())
    assert len(before) - len(after) == len(report["removed"])
    code, chain_report, text = chain(pglab)
    assert code == 0, text
    statuses = {b["backup_id"]: b["status"] for b in chain_report["chain"]["backups"]}
    assert statuses == {second["snapshot"]: "ok"}


def test_a_damaged_segment_breaks_the_chain_under_read_data(pglab: PgLab) -> None:
    primary = pglab.cluster()
    first = backup(pglab, primary)
    between = segments(primary, 3)
    second = backup(pglab, primary)
    primary.wait_archived(segments(primary, 2)[-1])
    damaged = between[1]
    sysid = primary.one("select system_identifier from pg_control_system()")
    path = pglab.repo / "wal" / f"{sysid}-{damaged}"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one flipped byte in the sealed body
    path.write_bytes(bytes(raw))

    done = pglab.drkit("check", "--chain", "--read-data", "--json")
    text = pglab.drkit("check", "--chain", "--read-data")
    assert done.returncode == text.returncode == 13, text.stdout + text.stderr
    c = json.loads(done.stdout)["chain"]
    assert not c["ok"] and c["first_missing"] == [damaged]
    assert f"{sysid}-{damaged}" in c["damaged_wal"]
    by_id = {b["backup_id"]: b for b in c["backups"]}
    assert by_id[first["snapshot"]]["status"] == "truncated"
    (gap,) = c["unreachable"]
    assert gap["first_missing"] == damaged and gap["until_backup"] == second["snapshot"]
    out = text.stdout + text.stderr
    assert f"WAL segment {damaged} is damaged" in out and "unreachable" in out
    assert "archived WAL object(s) are damaged" in text.stderr
    assert f"{first['snapshot'][:8]} (cluster {sysid}): " in out
    assert "no gap" not in out.split(first["snapshot"][:8])[1].split("\n")[0]
