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
        assert before.status_code == 200 and "No drills" in before.text
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
