"""drkit pg check: a segment switched now must arrive in the repository, or exit 28."""

from __future__ import annotations

import json

from tests.fixtures.pgcluster import PgLab


def test_pg_check_sees_the_segment_arrive_and_a_stalled_archiver(pglab: PgLab) -> None:
    primary = pglab.cluster()
    done = pglab.drkit("pg", "check", "--dsn", primary.dsn, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    sysid = primary.one("select system_identifier from pg_control_system()")
    assert result["system_id"] == str(sysid)
    assert (pglab.repo / "wal" / f"{sysid}-{result['segment']}").exists()
    text = pglab.drkit("pg", "check", "--dsn", primary.dsn)
    assert text.returncode == 0 and "archiving works" in text.stdout

    primary.sql("alter system set archive_command = 'exit 1'")  # archiving breaks
    primary.sql("select pg_reload_conf()")
    done = pglab.drkit("pg", "check", "--dsn", primary.dsn, "--timeout", "5")
    assert done.returncode == 28, done.stderr
    assert "did not reach the repository within 5 s" in done.stderr
    assert "the archiver last failed on" in done.stderr
