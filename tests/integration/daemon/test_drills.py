"""Runbook drills run by the daemon: journaled in its run, an alert when the RTO is missed."""

from __future__ import annotations

from collections.abc import Callable

from drkit.catalog.runs import RunStatus, get_run, list_runs
from tests.fixtures.receivers import (
    HttpReceiver,
)
from tests.integration.daemon.conftest import DaemonHome

RUNBOOK = """\
name: {name}
rto: {rto}
steps:
  - id: restore
    name: Restore the service
    action: shell
    with: {{command: "sleep {sleep}"}}
  - id: verify
    name: Check it answers
    action: shell
    with: {{command: "true"}}
"""


def drill_settings(home: DaemonHome, webhook: HttpReceiver, *, rto: str, sleep: str) -> None:
    folder = home.root / "runbooks"
    folder.mkdir(exist_ok=True)
    (folder / "restore-app.yaml").write_text(
        RUNBOOK.format(name="restore-app", rto=rto, sleep=sleep)
    )
    home.write_settings(
        extra=(
            f"runbooks:\n  dir: {folder}\n  drills:\n"
            "    - {runbook: restore-app, schedule: '0 3 * * 6'}\n"
            f"notifiers:\n  ops:\n    type: webhook\n    url: {webhook.url()}\n"
        )
    )


def drill_alerts(webhook: HttpReceiver) -> list[str]:
    return [
        r.json()["action"]
        for r in webhook.requests
        if r.json()["dedup_key"] == "job:drill:restore-app"
    ]


def test_a_drill_past_its_rto_fails_its_run_and_raises_an_alert(
    home: DaemonHome, make_http_receiver: Callable[..., HttpReceiver]
) -> None:
    webhook = make_http_receiver()
    drill_settings(home, webhook, rto="1s", sleep="1.5")
    assert home.drkit("run-job", "drill:restore-app").returncode != 0
    (run,) = list_runs(home.catalog(), kind="drill")
    view = get_run(home.catalog(), run.id)
    assert view.status is RunStatus.FAILED and "RTO" in (view.error or "")
    # the runbook's own steps are journaled inside the daemon's run, with their timings
    assert [s.name for s in view.steps] == ["drill restore-app", "restore", "verify"]
    restore = view.steps[1]
    assert restore.duration_s is not None and restore.duration_s >= 1.5

    home.drkit("serve", "--once").check()
    assert drill_alerts(webhook) == ["trigger"]

    drill_settings(home, webhook, rto="1m", sleep="0")
    home.drkit("run-job", "drill:restore-app").check()
    home.drkit("serve", "--once").check()
    assert drill_alerts(webhook) == ["trigger", "resolve"]

    # both scheduled drills are in the runbook's recovery-time statistics, step by step
    stats = home.drkit("runbook", "stats", "restore-app", "--drills", "--json").check().stdout
    assert stats.count('"restore"') >= 2 and '"failed"' in stats and '"succeeded"' in stats
