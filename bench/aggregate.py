"""Combine repeated benchmark runs into one summary (medians, with wall-time ranges)."""

from __future__ import annotations

import statistics
from dataclasses import replace

from bench.measure import CommandResult, DiskUsage
from bench.results import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_UNAVAILABLE,
    RunResult,
    ToolResult,
)

_STATUS_RANK = {STATUS_OK: 0, STATUS_FAILED: 1, STATUS_UNAVAILABLE: 2}


def _median_command(results: list[CommandResult]) -> CommandResult:
    failed = next((result for result in results if not result.ok), None)
    if failed is not None:
        return failed
    return replace(
        results[0],
        wall_s=statistics.median(result.wall_s for result in results),
        user_s=statistics.median(result.user_s for result in results),
        sys_s=statistics.median(result.sys_s for result in results),
        max_rss_kib=int(statistics.median(result.max_rss_kib for result in results)),
    )


def _median_usage(usages: list[DiskUsage]) -> DiskUsage:
    return DiskUsage(
        allocated_bytes=int(statistics.median(usage.allocated_bytes for usage in usages)),
        apparent_bytes=int(statistics.median(usage.apparent_bytes for usage in usages)),
        files=int(statistics.median(usage.files for usage in usages)),
    )


def _combine_tool(reps: list[ToolResult]) -> ToolResult:
    first = reps[0]
    combined = ToolResult(first.name, first.command, first.version, first.settings)
    combined.status = max((rep.status for rep in reps), key=_STATUS_RANK.__getitem__)
    same_errors = all(rep.errors == first.errors for rep in reps)
    for index, rep in enumerate(reps, start=1):
        if not same_errors:
            combined.errors.extend(f"repetition {index}: {error}" for error in rep.errors)
        combined.skipped.extend(p for p in rep.skipped if p not in combined.skipped)
    if same_errors:
        combined.errors = list(first.errors)
    for phase in first.phases:
        results = [rep.phases[phase] for rep in reps if phase in rep.phases]
        combined.phases[phase] = _median_command(results)
        walls = [result.wall_s for result in results if result.ok]
        if len(walls) == len(reps):
            combined.wall_range[phase] = [min(walls), max(walls)]
    for point in first.repo_size:
        usages = [rep.repo_size[point] for rep in reps if point in rep.repo_size]
        combined.repo_size[point] = _median_usage(usages)
    counts = {rep.snapshot_count for rep in reps}
    combined.snapshot_count = counts.pop() if len(counts) == 1 else None
    checks = [rep.restore_check for rep in reps if rep.restore_check is not None]
    combined.restore_check = next((c for c in checks if not c.ok), checks[0] if checks else None)
    return combined


def combine(runs: list[RunResult]) -> RunResult:
    """One ``RunResult`` holding per-cell medians of ``runs`` (all for the same tools)."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    tools = [_combine_tool([run.tools[index] for run in runs]) for index in range(len(first.tools))]
    return replace(
        first,
        notes=[
            *first.notes,
            f"Figures are medians of {len(runs)} repetitions (each with fresh repositories"
            " and a freshly generated dataset); time ranges are min-max.",
        ],
        dataset_generation_s=statistics.median(run.dataset_generation_s for run in runs),
        mutation_s=statistics.median(run.mutation_s for run in runs),
        rss_floor_kib=max(run.rss_floor_kib for run in runs),
        tools=tools,
    )
