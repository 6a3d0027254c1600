"""The scheduled collection as the daemon runs it: its executor runs `drkit config collect`
as a job step; a failed collection fails the run and the job rule raises an alert that
names the failing path."""

from __future__ import annotations

from pathlib import Path

from drkit.catalog.runs import RunStatus, get_run
from drkit.catalog.types import utcnow
from drkit.monitor.facts import gather
from drkit.monitor.rules import evaluate_rules
from drkit.scheduler.executor import JobExecutor
from drkit.scheduler.jobs import Job, JobKind, JobStep
from drkit.scheduler.slots import Trigger
from drkit.settings import load_settings
from tests.integration.confighistory.conftest import Drkit


def _job(schedule: str) -> Job:
    """The job drkit.yaml's config_history asks for (daily unless its schedule says else)."""
    return Job(
        id="config-collect:config-history",
        kind=JobKind.CONFIG_COLLECT,
        subject="config-history",
        schedule=schedule,
        steps=(JobStep("collect", ("config", "collect")),),
    )


def test_a_failed_scheduled_collection_raises_an_alert(dk: Drkit, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "a.conf").write_text("a = 1\n")
    dk.write_config(
        f"""
        version: 1
        config_history:
          sources: [{{name: app, paths: ['{etc}/a.conf', '{etc}/b.conf']}}]
        """
    )
    settings = load_settings(dk.config)
    assert settings.config_history.schedule == "0 1 * * *"  # daily by default
    dk("config", "log").check()
    catalog = dk.open_catalog()
    try:
        executor = JobExecutor(catalog, config_file=str(dk.config), env=dk.env)
        result = executor.run(
            _job(settings.config_history.schedule), trigger=Trigger.SCHEDULE, slot=None
        )
        assert result.status is RunStatus.FAILED
        run = get_run(catalog, result.run_id)
        # the command's own steps went into the daemon's run, then the daemon's step
        assert [s.name for s in run.steps] == ["collect", "drkit configuration", "collect app"]
        assert result.steps[0].exit_code == 52
        assert result.steps[0].document["failures"][0]["path"] == f"{etc}/b.conf"
        conditions = evaluate_rules(gather(catalog, settings, utcnow()))
        [alert] = [c for c in conditions if c.dedup_key == "job:config-collect:config-history"]
        assert f"{etc}/b.conf" in alert.summary

        (etc / "b.conf").write_text("b = 2\n")
        fixed = executor.run(
            _job(settings.config_history.schedule), trigger=Trigger.SCHEDULE, slot=None
        )
        assert fixed.status is RunStatus.SUCCEEDED
        conditions = evaluate_rules(gather(catalog, settings, utcnow()))
        assert not [c for c in conditions if c.dedup_key.startswith("job:config-collect")]
    finally:
        catalog.close()
