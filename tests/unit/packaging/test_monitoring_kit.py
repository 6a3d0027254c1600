"""The Prometheus rules pass promtool (check and their own unit tests); the dashboard is sound.

That every metric they name is exported by a running `drkit serve` is in
tests/integration/daemon/test_monitoring_kit_metrics.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KIT = ROOT / "packaging" / "monitoring"
METRIC = re.compile(r"\bdrkit_[a-z0-9_]+\b")


def kit_metric_names() -> set[str]:
    """Every drkit metric the rules and the dashboard name."""
    rules = (KIT / "drkit-alerts.yml").read_text()
    dashboard = json.loads((KIT / "drkit-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rule_exprs = re.findall(r"expr: (?:>-\n)?((?:.+\n)+?)\s+(?:for|labels):", rules)
    return set(METRIC.findall("\n".join(exprs + rule_exprs)))


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], cwd=KIT, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_checks_the_rules() -> None:
    result = _promtool("check", "rules", "drkit-alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def test_the_rules_fire_on_broken_series_and_not_on_good_ones() -> None:
    result = _promtool("test", "rules", "drkit-alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    rules = (KIT / "drkit-alerts.yml").read_text()
    broken = rules.replace("drkit_check_ok == 0", "drkit_check_ok ==")
    assert broken != rules
    (tmp_path / "bad.yml").write_text(broken)
    result = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "bad.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


def test_the_dashboard_queries_every_metric_the_rules_use() -> None:
    dashboard = json.loads((KIT / "drkit-dashboard.json").read_text())
    assert dashboard["uid"] == "drkit-overview"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 8
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    names = kit_metric_names()
    assert len(names) == 13, sorted(names)
