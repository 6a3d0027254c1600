"""Render a benchmark run as Markdown tables."""

from __future__ import annotations

from bench.dataset import MIB
from bench.measure import CommandResult
from bench.results import (
    PHASE_TITLES,
    PHASES,
    SIZE_POINTS,
    STATUS_UNAVAILABLE,
    RunResult,
    ToolResult,
)

RATIO_TOOL = "drkit"
RATIO_BASE = "restic"
NONE = "-"


def _number(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _seconds(value: float) -> str:
    return f"{_number(value)} s"


def _mib(value_bytes: float) -> str:
    return f"{value_bytes / MIB:.1f} MiB"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else NONE


def _phase_cells(tool: ToolResult, phase: str) -> tuple[str, str]:
    result = tool.phases.get(phase)
    if result is not None and result.ok:
        time_cell = _seconds(result.wall_s)
        if phase in tool.wall_range:
            low, high = tool.wall_range[phase]
            time_cell += f" ({_number(low)}-{_number(high)})"
        return time_cell, f"{result.max_rss_mib:.0f} MiB"
    if result is not None:
        return f"FAILED (exit {result.returncode})", NONE
    if phase in tool.skipped:
        return "skipped", NONE
    return "n/a", NONE


def _ok_phase(tool: ToolResult | None, phase: str) -> CommandResult | None:
    if tool is None:
        return None
    result = tool.phases.get(phase)
    return result if result is not None and result.ok else None


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def phase_table(run: RunResult) -> list[str]:
    """Rows = phases; per tool wall time and peak RSS; drkit/restic ratios."""
    with_ratio = run.tool(RATIO_TOOL) is not None and run.tool(RATIO_BASE) is not None
    header = ["phase"]
    for tool in run.tools:
        header += [f"{tool.name} time", f"{tool.name} peak RSS"]
    if with_ratio:
        header += [f"{RATIO_TOOL}/{RATIO_BASE} time", f"{RATIO_TOOL}/{RATIO_BASE} RSS"]
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for phase in PHASES:
        cells = [PHASE_TITLES[phase]]
        for tool in run.tools:
            cells += _phase_cells(tool, phase)
        if with_ratio:
            cells += _ratio_cells(run, phase)
        lines.append(_row(cells))
    return lines


def _ratio_cells(run: RunResult, phase: str) -> list[str]:
    mine = _ok_phase(run.tool(RATIO_TOOL), phase)
    base = _ok_phase(run.tool(RATIO_BASE), phase)
    if mine is None or base is None:
        return [NONE, NONE]
    return [_ratio(mine.wall_s, base.wall_s), _ratio(mine.max_rss_kib, base.max_rss_kib)]


def cpu_table(run: RunResult) -> list[str]:
    """Rows = phases; per tool CPU time (user + system), less noisy than wall time."""
    with_ratio = run.tool(RATIO_TOOL) is not None and run.tool(RATIO_BASE) is not None
    header = ["CPU time (user+sys)", *(tool.name for tool in run.tools)]
    if with_ratio:
        header.append(f"{RATIO_TOOL}/{RATIO_BASE}")
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for phase in PHASES:
        cells = [PHASE_TITLES[phase]]
        for tool in run.tools:
            result = _ok_phase(tool, phase)
            cells.append(_seconds(_cpu(result)) if result else NONE)
        if with_ratio:
            mine = _ok_phase(run.tool(RATIO_TOOL), phase)
            base = _ok_phase(run.tool(RATIO_BASE), phase)
            cells.append(_ratio(_cpu(mine), _cpu(base)) if mine and base else NONE)
        lines.append(_row(cells))
    return lines


def _cpu(result: CommandResult | None) -> float:
    return 0.0 if result is None else result.user_s + result.sys_s


def size_table(run: RunResult) -> list[str]:
    """Rows = measuring points; per tool repository size (``du``)."""
    with_ratio = run.tool(RATIO_TOOL) is not None and run.tool(RATIO_BASE) is not None
    header = ["repository size (du)", *(tool.name for tool in run.tools)]
    if with_ratio:
        header.append(f"{RATIO_TOOL}/{RATIO_BASE}")
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for point, title in SIZE_POINTS.items():
        cells = [title]
        for tool in run.tools:
            usage = tool.repo_size.get(point)
            cells.append(_mib(usage.allocated_bytes) if usage else NONE)
        if with_ratio:
            cells.append(_size_ratio(run, point))
        lines.append(_row(cells))
    return lines


def _size_ratio(run: RunResult, point: str) -> str:
    mine, base = run.tool(RATIO_TOOL), run.tool(RATIO_BASE)
    if mine is None or base is None:
        return NONE
    mine_size, base_size = mine.repo_size.get(point), base.repo_size.get(point)
    if mine_size is None or base_size is None:
        return NONE
    return _ratio(mine_size.allocated_bytes, base_size.allocated_bytes)


def dataset_lines(run: RunResult) -> list[str]:
    if run.tree is not None:
        return [f"- Dataset: {run.tree.describe()}; made in {run.dataset_generation_s:.1f} s."]
    stats = run.dataset
    if stats is None:
        return []
    lines = [
        f"- Dataset: seed {stats.seed}, scale {stats.scale}: {stats.total_files} files, "
        f"{_mib(stats.total_bytes)} ({stats.text_files} text files {_mib(stats.text_bytes)}, "
        f"{stats.large_files} random files {_mib(stats.large_bytes)}, "
        f"{stats.small_files} small files {_mib(stats.small_bytes)}); "
        f"generated in {run.dataset_generation_s:.1f} s."
    ]
    change = run.mutation
    if change is not None:
        lines.append(
            f"- Change: {_mib(change.changed_bytes)} new/rewritten "
            f"({change.text_files_modified} text files edited in the middle, "
            f"{change.text_files_appended} appended, {change.text_files_deleted} deleted; "
            f"{_mib(change.large_bytes_rewritten)} of one random file rewritten; "
            f"{change.small_files_added} small files added, "
            f"{change.small_files_deleted} deleted)."
        )
    return lines


def tool_lines(run: RunResult) -> list[str]:
    lines = []
    for tool in run.tools:
        restore = tool.restore_check
        verdict = "not verified"
        if restore is not None:
            verdict = ("restore OK: " if restore.ok else "RESTORE MISMATCH: ") + restore.message
        snapshots = "" if tool.snapshot_count is None else f"; {tool.snapshot_count} snapshots"
        if tool.status == STATUS_UNAVAILABLE:
            lines.append(f"- {tool.name}: UNAVAILABLE, not measured.")
        else:
            lines.append(
                f"- {tool.name} ({tool.version}): {tool.settings}; status {tool.status}; "
                f"{verdict}{snapshots}."
            )
        lines.extend(f"  - error: {error}" for error in tool.errors)
    return lines


def limits_table(run: RunResult) -> list[str]:
    """The machine's limits and drkit's time as a multiple of each phase's bound."""
    limits = run.limits
    if limits is None or not run.bounds:
        return []
    lines = [
        f"Machine limits: zstd level 2 {limits.zstd_mib_s:.0f} MiB/s and unzstd "
        f"{limits.unzstd_mib_s:.0f} MiB/s per core x {limits.cores} cores; disk read "
        f"{limits.disk_read_mib_s:.0f} MiB/s ({'cold' if limits.cold_read else 'warm'}), "
        f"write {limits.disk_write_mib_s:.0f} MiB/s (fsync); lstat "
        f"{limits.lstat_per_s:,.0f} entries/s.",
        "",
        _row(["phase", "bound", "bound by", "drkit", "drkit / bound"]),
        _row(["---", "---:", "---", "---:", "---:"]),
    ]
    for phase, (seconds, by, multiple) in run.bounds.items():
        drkit = run.tool(RATIO_TOOL)
        took = drkit.phases[phase].wall_s if drkit else 0.0
        lines.append(
            _row([PHASE_TITLES[phase], _seconds(seconds), by, _seconds(took), f"{multiple:.1f}x"])
        )
    return [*lines, ""]


def render(run: RunResult) -> str:
    """The complete Markdown report."""
    machine = ", ".join(f"{key} {value}" for key, value in run.machine.items())
    parts = [
        "## Benchmark results",
        "",
        f"- Run started {run.started_utc} on: {machine}.",
        *dataset_lines(run),
        *tool_lines(run),
        *(f"- {note}" for note in run.notes),
        "",
        "Wall time and peak RSS of each command:",
        "",
        *phase_table(run),
        "",
        *cpu_table(run),
        "",
        *size_table(run),
        "",
        *limits_table(run),
    ]
    return "\n".join(parts)
