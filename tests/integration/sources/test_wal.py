"""WAL archiving with real clusters: every segment arrives, pushes are idempotent,
a conflicting push is refused, and an unreachable repository loses nothing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from drkit.sources.wal_names import parse_wal_name
from tests.fixtures.pgcluster import PgCluster, PgLab
from tests.fixtures.pgcluster_sftp import start_sftp
from tests.fixtures.receivers import HttpReceiver


def wal_objects(repo: Path) -> dict[str, bytes]:
    """WAL file name -> stored object bytes, straight from a local repository folder."""
    folder = repo / "wal"
    return {p.name.partition("-")[2]: p.read_bytes() for p in folder.iterdir()}


def make_segments(cluster: PgCluster, count: int) -> list[str]:
    """Write a little, switch, ``count`` times; the names of the closed segments."""
    names = []
    for i in range(count):
        cluster.sql(f"create table if not exists w{i} as select generate_series(1, 1000) g")
        names.append(cluster.switch_wal())
    return names


def server_copy(cluster: PgCluster, name: str) -> bytes:
    data = cluster.one("select pg_read_binary_file(%s)", f"pg_wal/{name}")
    assert isinstance(data, bytes)
    return data


def test_segments_arrive_and_come_back_byte_for_byte(pglab: PgLab) -> None:
    primary = pglab.cluster()
    names = make_segments(primary, 3)
    primary.wait_archived(names[-1])
    stored = wal_objects(pglab.repo)
    sysid = str(primary.one("select system_identifier from pg_control_system()"))
    for name in names:
        assert name in stored
        dest = pglab.base / f"fetched-{name}"
        done = pglab.drkit("wal-fetch", "--system-id", sysid, name, str(dest))
        assert done.returncode == 0, done.stderr
        assert dest.read_bytes() == server_copy(primary, name)
        assert len(stored[name]) < 16 * 1024 * 1024 // 4  # compressed
    assert all(parse_wal_name(n) is not None for n in stored)
    missing = pglab.drkit("wal-fetch", "--system-id", sysid, "0000000100000000000000FF", "x")
    assert missing.returncode == 1
    assert "not in the WAL archive" in missing.stderr


def test_a_push_with_other_content_is_refused(pglab: PgLab) -> None:
    primary = pglab.cluster()
    (name,) = make_segments(primary, 1)
    primary.wait_archived(name)
    before = wal_objects(pglab.repo)[name]
    copy = pglab.base / "copy" / name
    copy.parent.mkdir()
    copy.write_bytes(server_copy(primary, name))
    pgdata = ["--pgdata", str(primary.datadir)]
    again = pglab.drkit("wal-push", str(copy), *pgdata, "--json")
    assert again.returncode == 0, again.stderr
    assert '"already-archived"' in again.stdout

    altered = bytearray(copy.read_bytes())
    altered[9000] ^= 0xFF
    copy.write_bytes(bytes(altered))
    done = pglab.drkit("wal-push", str(copy), *pgdata)
    assert done.returncode == 24, done.stderr
    assert f"WAL conflict: {name} is already archived with other content" in done.stderr
    assert "refused" in done.stderr and "hint:" in done.stderr
    assert wal_objects(pglab.repo)[name] == before  # nothing overwritten
    dest = pglab.base / "fetched"
    sysid = str(primary.one("select system_identifier from pg_control_system()"))
    assert pglab.drkit("wal-fetch", "--system-id", sysid, name, str(dest)).returncode == 0
    assert dest.read_bytes() == server_copy(primary, name)


def test_a_refused_push_alerts_the_notifiers_at_once(
    pglab: PgLab, http_receiver: HttpReceiver
) -> None:
    primary = pglab.cluster()
    (name,) = make_segments(primary, 1)
    primary.wait_archived(name)
    altered = bytearray(server_copy(primary, name))
    altered[9000] ^= 0xFF
    copy = pglab.base / "copy" / name
    copy.parent.mkdir()
    copy.write_bytes(bytes(altered))
    settings = pglab.base / "drkit.yaml"
    settings.write_text(f"notifiers:\n  ops:\n    type: webhook\n    url: {http_receiver.url()}\n")
    env = pglab.drkit_env(DRKIT_CONFIG=str(settings))
    done = pglab.drkit("wal-push", str(copy), "--pgdata", str(primary.datadir), env=env)
    assert done.returncode == 24, done.stderr
    (event,) = [r.json() for r in http_receiver.wait_for(1)]
    assert event["dedup_key"] == f"wal-conflict:{name}"
    assert event["severity"] == "critical" and event["action"] == "trigger"
    assert name in event["summary"] and event["details"]["segment"] == name


def test_unreachable_repository_loses_nothing(pglab: PgLab) -> None:
    storage = start_sftp(pglab)
    repo_dir = pglab.base / "sftp-repo"
    url = storage.url(repo_dir)
    pglab.init_repo(url)
    quick = {"DRKIT_RETRY_ATTEMPTS": "2", "DRKIT_RETRY_BASE_DELAY": "0.1"}
    primary = pglab.cluster(archive_command=pglab.archive_command(url, **quick))
    first = make_segments(primary, 1)
    primary.wait_archived(first[-1])
    archived, failed, _ = primary.archiver()

    storage.stop()
    during = make_segments(primary, 3)
    deadline = time.monotonic() + 60
    while primary.archiver()[1] <= failed:
        assert time.monotonic() < deadline, primary.log_tail()
        time.sleep(0.2)
    assert primary.archiver()[0] == archived  # nothing counted as archived meanwhile
    assert not set(during) & set(wal_objects(repo_dir))
    log = primary.log.read_text()
    assert "archive command failed with exit code 15" in log  # drkit's storage error
    assert "error: cannot" in log and "127.0.0.1" in log

    storage.start()
    after = make_segments(primary, 1)  # also wakes the archiver
    primary.wait_archived(after[-1], timeout=120)
    stored = wal_objects(repo_dir)
    for name in [*first, *during, *after]:
        assert name in stored, f"{name} was lost"
    sysid = str(primary.one("select system_identifier from pg_control_system()"))
    dest = pglab.base / "back"
    done = pglab.drkit("--repo", url, "wal-fetch", "--system-id", sysid, during[0], str(dest))
    assert done.returncode == 0, done.stderr
    assert dest.read_bytes()[:40] == server_copy(primary, during[0])[:40]
    shutil.rmtree(pglab.base / "back", ignore_errors=True)


def test_copy_takes_the_wal_archive_along(pglab: PgLab) -> None:
    primary = pglab.cluster()
    names = make_segments(primary, 2)
    primary.wait_archived(names[-1])
    offsite = pglab.base / "offsite"
    assert pglab.drkit("--repo", str(offsite), "init").returncode == 0
    to = ["--to", str(offsite), "--to-password-file", str(pglab.password_file)]

    first = pglab.drkit("copy", *to, "--json")
    assert first.returncode == 0, first.stderr
    assert '"wal_copied": 0' not in first.stdout
    assert set(wal_objects(offsite)) == set(wal_objects(pglab.repo))
    again = pglab.drkit("copy", *to, "--json")
    assert '"wal_copied": 0' in again.stdout  # nothing twice

    sysid = str(primary.one("select system_identifier from pg_control_system()"))
    dest = pglab.base / "from-offsite"
    env = pglab.drkit_env(DRKIT_REPO=str(offsite))
    done = pglab.drkit("wal-fetch", "--system-id", sysid, names[0], str(dest), env=env)
    assert done.returncode == 0, done.stderr
    assert dest.read_bytes() == server_copy(primary, names[0])
