"""`drkit status` shows what the daemon proved: verified age, last check, last restore test."""

from __future__ import annotations

import json

from tests.integration.daemon.conftest import DEFAULT_POLICY, DaemonHome

WITH_RESTORE_TEST = (
    DEFAULT_POLICY
    + """\
    verification:
      restore_test: {{schedule: "0 3 * * 6"}}
"""
)


def test_status_reports_verification_evidence_from_the_catalog(home: DaemonHome) -> None:
    home.write_settings(policy=WITH_RESTORE_TEST)
    before = json.loads(home.drkit("status", "--json").check().stdout)
    (repo,) = before["app"][0]["repositories"]
    assert repo["newest_verified"] is None and repo["last_check"] is None

    for job in ("backup:app", "check:app:local", "restore-test:app:local"):
        home.drkit("run-job", job).check()
    after = json.loads(home.drkit("status", "--json").check().stdout)
    (repo,) = after["app"][0]["repositories"]
    assert repo["newest_verified"] == repo["newest"]
    assert repo["last_check"]["ok"] is True and repo["last_check"]["kind"] == "check"
    assert repo["last_restore_test"]["ok"] is True
    assert repo["last_restore_test"]["duration_s"] > 0

    text = home.drkit("status").check().stdout
    assert "last restore test" in text and "ok in" in text
