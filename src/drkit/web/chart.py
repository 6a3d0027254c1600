"""The RTO trend as an SVG chart, drawn on the server by a pure function of the run history.

:func:`rto_chart` takes the recovery times of the last runs (oldest first)
and the objective, and returns the whole ``<svg>`` as text: one point per run
(green when it met the RTO, red when it missed it or failed, hollow when it
does not count as a recovery time: a failed or partial run), a line through
the counted ones, and the RTO as a dashed line. It carries a ``<title>`` and a
``<desc>`` saying what it shows; the page puts the same numbers in a table
beside it, so nothing is only in the picture. No script, no external asset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from drkit.runbooks.durations import duration_text

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
OK, MISSED, LINE, GRID, OBJECTIVE = "#2e7d32", "#c62828", "#1f2a37", "#e5e5e5", "#b26a00"


@dataclass(frozen=True)
class Point:
    """One run: when, how long it took, whether it counts and whether it met the RTO."""

    label: str  # under the x axis and in the point's tooltip: "#12" (a run), ...
    started_at: datetime
    seconds: float
    counted: bool  # a full run that succeeded: a recovery time
    met: bool | None  # None: no RTO


@dataclass(frozen=True)
class Mark:
    """A point placed on the chart."""

    x: float
    y: float
    point: Point


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (> 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value * (1 - 1e-9):
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def y_top(points: Sequence[Point], objective_s: float | None) -> float:
    """The top of the y axis: above every point and the objective, with some room."""
    highest = max([p.seconds for p in points] + [objective_s or 0.0])
    return nice_ceiling(highest * 1.1)


def place(points: Sequence[Point], top: float) -> list[Mark]:
    """Where each point goes: evenly spaced left to right (oldest first), y by its time."""
    span_x, span_y = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = span_x / (len(points) - 1) if len(points) > 1 else 0.0
    marks = []
    for i, p in enumerate(points):
        x = LEFT + (i * step if len(points) > 1 else span_x / 2)
        marks.append(Mark(round(x, 1), round(TOP + span_y * (1 - p.seconds / top), 1), p))
    return marks


def describe(points: Sequence[Point], objective_s: float | None, trend: str) -> str:
    """The chart in one sentence, for its ``<desc>`` (screen readers)."""
    if not points:
        return "No drill has finished yet."
    counted = [p for p in points if p.counted]
    missed = sum(1 for p in points if p.met is False)
    rto = f"the RTO is {duration_text(objective_s)}" if objective_s else "no RTO is set"
    newest = points[-1]
    return (
        f"{len(points)} runs from {points[0].started_at:%Y-%m-%d} to "
        f"{newest.started_at:%Y-%m-%d}; {len(counted)} count as recovery times; {rto}; "
        f"{missed} missed it; the newest took {duration_text(newest.seconds)}; trend {trend}."
    )


def rto_chart(
    points: Sequence[Point],
    objective_s: float | None,
    *,
    title: str,
    trend: str = "unknown",
    ident: str | None = None,
) -> str:
    """The ``<svg>`` of ``points`` (oldest first) against ``objective_s``; ``ident`` makes the
    ids of its title and description unique in the page (default: from the title)."""
    ident = "chart-" + "".join(c if c.isalnum() else "-" for c in (ident or title).lower())
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" class="rto-chart">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(describe(points, objective_s, trend))}</desc>'
    )
    if not points:
        empty = f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no drill yet</text>'
        return head + empty + "</svg>"
    top = y_top(points, objective_s)
    marks = place(points, top)
    body = _axes(top) + _x_labels(marks) + _objective(objective_s, top) + _series(marks)
    return head + body + "</svg>"


def _y(seconds: float, top: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - seconds / top), 1)


def _axes(top: float) -> str:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = _y(value, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11">'
            f"{escape(duration_text(value) if value else '0')}</text>"
        )
    return "".join(parts)


def tick_format(points: Sequence[Point]) -> str:
    """Days (``%m-%d``) under the points, or times (``%H:%M``) when they all fall on one day."""
    days = {p.started_at.date() for p in points}
    return "%H:%M" if len(days) == 1 else "%m-%d"


def _x_labels(marks: Sequence[Mark]) -> str:
    every = max(1, math.ceil(len(marks) / 6))  # at most about six labels: they must not overlap
    fmt = tick_format([m.point for m in marks])
    return "".join(
        f'<text x="{m.x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
        f"{m.point.started_at.strftime(fmt)}</text>"
        f'<text x="{m.x}" y="{HEIGHT - BOTTOM + 30}" text-anchor="middle" font-size="10" '
        f'fill="#666">{escape(m.point.label)}</text>'
        for i, m in enumerate(marks)
        if i % every == 0 or i == len(marks) - 1
    )


def _objective(objective_s: float | None, top: float) -> str:
    if not objective_s:
        return ""
    y = _y(objective_s, top)
    return (
        f'<line class="objective" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" '
        f'stroke="{OBJECTIVE}" stroke-width="2" stroke-dasharray="6 4"/>'
        f'<text x="{WIDTH - RIGHT}" y="{y - 5}" text-anchor="end" font-size="12" '
        f'fill="{OBJECTIVE}">RTO {escape(duration_text(objective_s))}</text>'
    )


def _series(marks: Sequence[Mark]) -> str:
    counted = [m for m in marks if m.point.counted]
    line = ""
    if len(counted) > 1:
        path = " ".join(f"{m.x},{m.y}" for m in counted)
        line = f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'
    return line + "".join(_dot(m) for m in marks)


def _dot(mark: Mark) -> str:
    p = mark.point
    color = MISSED if p.met is False or not p.counted else OK
    fill = color if p.counted else "#fff"
    verdict = {True: "met the RTO", False: "missed the RTO", None: "no RTO"}[p.met]
    counted = "" if p.counted else ", not counted (failed or partial)"
    label = f"{p.label}, {p.started_at:%Y-%m-%d %H:%M}: {duration_text(p.seconds)}, {verdict}"
    return (
        f'<circle class="run {"met" if p.met else "missed" if p.met is False else "none"}" '
        f'cx="{mark.x}" cy="{mark.y}" r="5" fill="{fill}" stroke="{color}" stroke-width="2">'
        f"<title>{escape(label + counted)}</title></circle>"
    )
