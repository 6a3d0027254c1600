"""`drkit drill backup --policy NAME`: restore tests per repository against the policy's RTO."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import Runner, policy_settings
from tests.integration.verify.conftest import as_json, text


def policy_with_rto(drkit: Runner, tmp_path: Path, src: Path, rto: str) -> str:
    """drkit.yaml with policy `app` (repositories nas and cloud, RTO ``rto``), backed up once."""
    cfg = policy_settings(tmp_path, src)
    cfg.write_text(cfg.read_text() + f"    rto: {rto}\n")
    for name in ("nas", "cloud"):
        drkit("--config", str(cfg), "--repo", name, "init").check()
    drkit("--config", str(cfg), "backup", "--policy", "app").check()
    return str(cfg)


def test_a_drill_within_the_objective_passes(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_with_rto(drkit, tmp_path, sample_tree, "1h")
    scratch = tmp_path / "scratch"

    done = drkit("--config", cfg, "drill", "backup", "--policy", "app", "--scratch", str(scratch))

    assert done.returncode == 0, text(done)
    out = done.stdout
    assert "RTO objective 1h" in out
    assert "PASSED measured RTO" in out and "against an objective of 1h" in out
    for name in ("nas", "cloud"):
        assert name in out
    for step in ("prepare", "restore", "verify", "cleanup"):
        assert step in out
    assert list(scratch.iterdir()) == []

    report = as_json(drkit("--config", cfg, "drill", "backup", "--policy", "app", "--json").check())
    assert report["verdict"] == "passed" and report["objective_s"] == 3600
    assert [r["repository"] for r in report["repositories"]] == ["nas", "cloud"]
    snapshots = {r["restore_test"]["snapshot"] for r in report["repositories"]}
    assert len(snapshots) == 1  # a fan-out backup has one identity everywhere
    assert all(r["rto_met"] is True for r in report["repositories"])
    slowest = max(r["restore_test"]["rto_s"] for r in report["repositories"])
    assert report["measured_rto_s"] == slowest


def test_a_drill_slower_than_the_objective_fails(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_with_rto(drkit, tmp_path, sample_tree, "1s")
    args = ("--config", cfg, "drill", "backup", "--policy", "app", "--repository", "nas")

    done = drkit(*args, "--validate", "sleep 1.5")

    assert done.returncode == 33, text(done)
    assert "RTO MISSED" in done.stdout and "against an objective of 1s" in done.stdout
    assert "the RTO objective is 1s" in done.stderr

    report = as_json(drkit(*args, "--validate", "sleep 1.5", "--json"))
    assert report["verdict"] == "rto-missed" and report["measured_rto_s"] > 1.5
    [entry] = report["repositories"]
    assert entry["repository"] == "nas" and entry["rto_met"] is False
    assert entry["restore_test"]["passed"] is True  # the data was fine, only too slow


def test_a_broken_repository_fails_the_drill_and_the_other_is_still_tested(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_with_rto(drkit, tmp_path, sample_tree, "1h")
    shutil.rmtree(tmp_path / "cloud")

    done = drkit("--config", cfg, "drill", "backup", "--policy", "app", "--json")

    assert done.returncode == 32, text(done)
    nas, cloud = as_json(done)["repositories"]
    assert nas["verdict"] == "passed" and nas["restore_test"]["passed"] is True
    assert cloud["verdict"] == "failed" and cloud["error_code"] == "repository-not-found"
    assert "failed in: cloud" in done.stderr


def test_a_failing_validation_fails_the_drill(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_with_rto(drkit, tmp_path, sample_tree, "1h")
    done = drkit("--config", cfg, "drill", "backup", "--policy", "app", "--validate", "false")
    assert done.returncode == 32, text(done)
    assert "FAILED" in done.stdout and "exited with code 1" in done.stdout


def test_unknown_policy_and_repository_are_usage_errors(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = str(policy_settings(tmp_path, sample_tree))
    done = drkit("--config", cfg, "drill", "backup", "--policy", "nope")
    assert done.returncode == 2 and "app" in done.stderr
    done = drkit("--config", cfg, "drill", "backup", "--policy", "app", "--repository", "tape")
    assert done.returncode == 2 and "nas, cloud" in done.stderr


def test_a_drill_is_journaled_and_its_rto_is_what_the_monitor_sees(
    drkit: Runner, sample_tree: Path, tmp_path: Path, drkit_env: dict[str, str]
) -> None:
    cfg = policy_with_rto(drkit, tmp_path, sample_tree, "1s")
    done = drkit(
        "--config",
        cfg,
        "drill",
        "backup",
        "--policy",
        "app",
        "--repository",
        "nas",
        "--validate",
        "sleep 1.2",
    )
    assert done.returncode == 33, text(done)

    runs = as_json(drkit("--config", cfg, "runs", "--kind", "drill", "--json").check())
    (run,) = runs
    assert run["subject"] == "app" and run["status"] == "failed"
    shown = as_json(drkit("--config", cfg, "runs", "show", str(run["id"]), "--json").check())
    steps = {s["name"]: s for s in shown["steps"]}
    assert {"nas: prepare", "nas: restore", "nas: verify", "nas: cleanup"} <= set(steps)
    validation = [s for name, s in steps.items() if name.startswith("nas: validate")]
    assert validation and validation[0]["duration_s"] >= 1.2

    status = as_json(drkit("--config", cfg, "status", "--json").check())
    (nas,) = [r for r in status["app"][0]["repositories"] if r["name"] == "nas"]
    assert nas["last_restore_test"]["ok"] is True
    assert nas["last_restore_test"]["duration_s"] >= 1.2  # the RTO evidence: over the 1s objective
