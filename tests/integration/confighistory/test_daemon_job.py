"""The scheduled collection as the daemon runs it: its executor runs `drkit config collect`
as a job step; a failed collection fails the run and the job rule raises an alert that
names the failing path. The job is the one the daemon plans from drkit.yaml."""

from __future__ import annotations

from pathlib import Path

from drkit.catalog.runs import RunStatus, get_run
from drkit.catalog.types import utcnow
from drkit.monitor.facts import gather
from drkit.monitor.rules import evaluate_rules
from drkit.scheduler.executor import JobExecutor
from drkit.scheduler.jobs import Job, JobKind, plan_jobs
from drkit.scheduler.slots import Trigger
from drkit.settings import load_settings
from drkit.settings.model import Settings
from tests.integration.confighistory.conftest import Drkit


def _job(settings: Settings) -> Job:
    """The collection job the daemon plans from drkit.yaml."""
    [job] = [j for j in plan_jobs(settings) if j.kind is JobKind.CONFIG_COLLECT]
    return job


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
    assert _job(settings).schedule == "0 1 * * *"  # daily by default
    dk("config", "log").check()
    catalog = dk.open_catalog()
    try:
        executor = JobExecutor(catalog, config_file=str(dk.config), env=dk.env)
        result = executor.run(_job(settings), trigger=Trigger.SCHEDULE, slot=None)
        assert result.status is RunStatus.FAILED
        run = get_run(catalog, result.run_id)
        # the command's own steps went into the daemon's run, then the daemon's step
        step = _job(settings).steps[0].name
        assert [s.name for s in run.steps] == [step, "drkit configuration", "collect app"]
        assert result.steps[0].exit_code == 52
        assert result.steps[0].document["failures"][0]["path"] == f"{etc}/b.conf"
        conditions = evaluate_rules(gather(catalog, settings, utcnow()))
        [alert] = [c for c in conditions if c.dedup_key == f"job:{_job(settings).id}"]
        assert f"{etc}/b.conf" in alert.summary

        (etc / "b.conf").write_text("b = 2\n")
        fixed = executor.run(_job(settings), trigger=Trigger.SCHEDULE, slot=None)
        assert fixed.status is RunStatus.SUCCEEDED
        conditions = evaluate_rules(gather(catalog, settings, utcnow()))
        assert not [c for c in conditions if c.dedup_key.startswith("job:config-collect")]
    finally:
        catalog.close()
