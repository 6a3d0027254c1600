"""Prometheus lines for the split-brain states: one gauge per kind (0 or 1) and the count."""

from __future__ import annotations

from collections.abc import Sequence

from drkit.ha.splitbrain.detect import Kind, SplitBrainState
from drkit.ha.splitbrain.resolve import Resolution


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def render_split_brain(
    cluster: str, site: str, states: Sequence[SplitBrainState], resolution: Resolution
) -> str:
    """Every kind is always present (0 when not detected), so a healed state reads 0."""
    base = f'cluster="{_esc(cluster)}",site="{_esc(site)}"'
    lines = ["# TYPE drkit_ha_split_brain gauge"]
    for kind in Kind:
        count = sum(1 for s in states if s.kind is kind)
        lines.append(f'drkit_ha_split_brain{{{base},state="{kind.value}"}} {count}')
    lines += [
        "# TYPE drkit_ha_split_brain_votes gauge",
        f"drkit_ha_split_brain_votes{{{base}}} {len(resolution.votes)}",
        "# TYPE drkit_ha_split_brain_fencing gauge",
        f"drkit_ha_split_brain_fencing{{{base}}} {int(resolution.outcome.value == 'fence')}",
    ]
    return "\n".join(lines) + "\n"
