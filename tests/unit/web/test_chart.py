"""The RTO chart: a pure function of the runs and the objective, checked as parsed SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from drkit.web.chart import (
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Point,
    describe,
    nice_ceiling,
    place,
    rto_chart,
)

NS = {"s": "http://www.w3.org/2000/svg"}
T0 = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


def _points(*runs: tuple[float, bool, bool | None]) -> list[Point]:
    return [
        Point(f"#{i + 1}", T0 + timedelta(days=i), s, counted, met)
        for i, (s, counted, met) in enumerate(runs)
    ]


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1.0), (0.3, 0.5), (1, 1.0), (1.01, 2.0), (3, 5.0), (7, 10.0), (66, 100.0), (3960, 5000.0)],
)
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


def test_points_go_oldest_left_and_higher_times_higher_up() -> None:
    marks = place(_points((10, True, True), (40, True, True), (20, True, True)), top=50)
    assert [m.x for m in marks] == [LEFT, (LEFT + WIDTH - RIGHT) / 2, WIDTH - RIGHT]
    assert marks[1].y < marks[2].y < marks[0].y  # 40 s is highest on screen (smallest y)
    assert marks[1].y == pytest.approx(TOP + (HEIGHT - TOP - 40) * (1 - 40 / 50), abs=0.1)


def test_one_point_sits_in_the_middle() -> None:
    [mark] = place(_points((5, True, True)), top=10)
    assert mark.x == pytest.approx(LEFT + (WIDTH - LEFT - RIGHT) / 2)


def test_the_chart_has_a_title_a_description_the_objective_and_a_dot_per_run() -> None:
    runs = _points((30, True, True), (90, True, False), (20, False, False), (40, True, True))
    svg = ET.fromstring(rto_chart(runs, 60, title="Recovery time of failover", trend="stable"))
    assert svg.get("role") == "img"
    title, desc = svg.find("s:title", NS), svg.find("s:desc", NS)
    assert title is not None and title.text == "Recovery time of failover"
    assert desc is not None and desc.text is not None
    assert "4 runs" in desc.text and "3 count" in desc.text and "RTO is 1m" in desc.text
    assert "2 missed it" in desc.text and "trend stable" in desc.text
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    dots = svg.findall("s:circle", NS)
    assert [d.get("class") for d in dots] == ["run met", "run missed", "run missed", "run met"]
    assert dots[2].get("fill") == "#fff"  # the failed run is hollow: not a recovery time
    [objective] = svg.findall("s:line[@class='objective']", NS)
    # the RTO line is at 60 s on an axis up to 100 s
    assert float(objective.get("y1", "0")) == pytest.approx(
        TOP + (HEIGHT - TOP - 40) * 0.4, abs=0.1
    )
    [line] = svg.findall("s:polyline", NS)
    assert len(line.get("points", "").split()) == 3  # only the counted runs are joined


def test_no_rto_no_objective_line_and_no_runs_says_so() -> None:
    svg = ET.fromstring(rto_chart(_points((3, True, None)), None, title="x"))
    assert svg.findall("s:line[@class='objective']", NS) == []
    assert "no RTO is set" in (svg.findtext("s:desc", namespaces=NS) or "")
    empty = ET.fromstring(rto_chart([], 60, title="x"))
    assert empty.findall("s:circle", NS) == []
    assert empty.findtext("s:desc", namespaces=NS) == "No drill has finished yet."


def test_text_in_the_chart_is_escaped() -> None:
    svg = rto_chart(_points((3, True, True)), 10, title="<script>alert(1)</script>")
    assert "<script>" not in svg and ET.fromstring(svg) is not None


def test_the_axis_reaches_above_the_objective_when_every_run_is_faster() -> None:
    assert "RTO 1h" in describe(_points((5, True, True)), 3600, "unknown").replace(
        "the RTO is ", "RTO "
    )
    svg = ET.fromstring(rto_chart(_points((5, True, True)), 3600, title="x"))
    [objective] = svg.findall("s:line[@class='objective']", NS)
    assert float(objective.get("y1", "0")) > TOP  # inside the plot, not clipped at the top


def test_ticks_are_days_or_times_within_one_day() -> None:
    from drkit.web.chart import tick_format

    assert tick_format(_points((1, True, True), (2, True, True))) == "%m-%d"  # a day apart
    same_day = [Point("#1", T0, 1, True, True), Point("#2", T0 + timedelta(hours=2), 1, True, True)]
    assert tick_format(same_day) == "%H:%M"
    svg = ET.fromstring(rto_chart(same_day, None, title="x"))
    assert [t.text for t in svg.findall("s:text", NS)][-4:] == ["03:00", "#1", "05:00", "#2"]
