"""The drills page: real drills of a real runbook, their chart and table against the RTO."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from drkit.runbooks.durations import duration_text
from tests.integration.api.conftest import Api
from tests.integration.web.conftest import add_drills, signed_in

NS = {"s": "http://www.w3.org/2000/svg"}


def test_the_drills_chart_and_table_show_each_drill_against_the_rto(site: Api) -> None:
    with signed_in(site, "dana") as c:
        before = c.get("/drills")
        assert before.status_code == 200 and "No runbook drills" in before.text
        met, missed, failed = add_drills(site)
        text = c.get("/drills").text
    stats = site.cli_json("runbook", "stats", "restore-db", "--drills")
    assert [r["run_id"] for r in stats["runs"]] == [failed, missed, met]
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", text, re.S).group(0))  # type: ignore[union-attr]
    assert svg.findtext("s:title", namespaces=NS) == "Recovery time of restore-db"
    assert "3 runs" in (svg.findtext("s:desc", namespaces=NS) or "")
    dots = svg.findall("s:circle", NS)
    assert [d.get("class") for d in dots] == ["run met", "run missed", "run missed"]
    assert dots[2].get("fill") == "#fff"  # the failed drill does not count
    assert svg.find("s:line[@class='objective']", NS) is not None
    assert "RTO 1s" in text
    rows = re.findall(r'<tr class="(\w+)"><td><a href="/runs/(\d+)">', text)
    assert rows == [("failed", str(failed)), ("succeeded", str(missed)), ("succeeded", str(met))]
    assert text.count("<td>missed</td>") == 2 and text.count("<td>met</td>") == 1
    assert f"median {duration_text(stats['median_total_s'])} over 2 full drills" in text


def test_restore_tests_and_backup_drills_are_charted_per_source_against_the_policys_rto(
    site: Api,
) -> None:
    with signed_in(site, "dana") as c:
        assert "No restore test or backup drill yet" in c.get("/drills").text
        failed = site.drkit("drill", "backup", "--policy", "app")  # no snapshot of the policy yet
        assert failed.returncode == 32, failed.stderr
        site.drkit("run-job", "backup:app").check()
        site.drkit("drill", "backup", "--policy", "app").check()
        text = c.get("/drills").text
    source = str(site.root / "src")
    charts = re.findall(r"<svg.*?</svg>", text, re.S)
    restore = next(ET.fromstring(s) for s in charts if source in s)
    ids = re.findall(r' id="(chart-[^"]+)"', text)
    assert len(ids) == len(set(ids)) == 2 * len(charts)  # a title and a desc per chart
    assert (
        restore.findtext("s:title", namespaces=NS) == f"Recovery time of app: {source} from local"
    )
    dots = restore.findall("s:circle", NS)
    assert [d.get("class") for d in dots] == ["run missed", "run met"]  # well under the 1h RTO
    assert dots[0].get("fill") == "#fff"  # the drill that could not run is hollow
    objective = restore.find("s:line[@class='objective']", NS)
    assert objective is not None
    assert re.search(r"<h3>app: <code>[^<]*/src</code> from <a href=\"/snapshots/local\">", text)
    assert text.count("<td>passed</td>") == 1 and "RTO 1h" in text
    assert "<td>failed: the repository has no snapshot with tag policy:app" in text
