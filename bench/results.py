"""Data model of one benchmark run and its JSON serialisation."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.dataset import DatasetStats, MutationStats
from bench.limits import MachineLimits
from bench.measure import CommandResult, DiskUsage
from bench.realdata import TreeStats
from bench.verify import VerifyResult

PHASES: tuple[str, ...] = (
    "init",
    "backup-initial",
    "backup-unchanged",
    "backup-changed",
    "restore",
    "check",
)

PHASE_TITLES: dict[str, str] = {
    "init": "init repository",
    "backup-initial": "initial backup",
    "backup-unchanged": "re-backup, unchanged",
    "backup-changed": "re-backup after ~5% change",
    "restore": "restore latest",
    "check": "check, read all data",
}

SIZE_POINTS: dict[str, str] = {
    "after-initial": "repo size after initial backup",
    "after-changed": "repo size after change backup",
}

STATUS_OK = "ok"
STATUS_UNAVAILABLE = "unavailable"
STATUS_FAILED = "failed"


@dataclass
class ToolResult:
    """Everything measured for one tool."""

    name: str
    command: list[str]
    version: str = ""
    settings: str = ""
    status: str = STATUS_OK
    errors: list[str] = field(default_factory=list)
    phases: dict[str, CommandResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    repo_size: dict[str, DiskUsage] = field(default_factory=dict)
    snapshot_count: int | None = None
    restore_check: VerifyResult | None = None
    wall_range: dict[str, list[float]] = field(default_factory=dict)

    @property
    def runnable(self) -> bool:
        """True while no phase that later phases depend on has failed."""
        return self.status == STATUS_OK

    def fail(self, message: str) -> None:
        self.status = STATUS_FAILED
        self.errors.append(message)


@dataclass
class RunResult:
    """One complete benchmark run."""

    started_utc: str
    machine: dict[str, str]
    options: dict[str, Any]
    notes: list[str]
    dataset: DatasetStats | None = None
    dataset_generation_s: float = 0.0
    mutation: MutationStats | None = None
    mutation_s: float = 0.0
    tree: TreeStats | None = None  # the real-shaped data sets
    limits: MachineLimits | None = None
    bounds: dict[str, tuple[float, str, float]] = field(default_factory=dict)
    rss_floor_kib: int = 0
    tools: list[ToolResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(tool.status == STATUS_OK for tool in self.tools)

    def tool(self, name: str) -> ToolResult | None:
        return next((tool for tool in self.tools if tool.name == name), None)


def _run_dict(run: RunResult) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    if data["mutation"] is not None:
        touched = data["mutation"].pop("touched_paths")
        data["mutation"]["touched_path_count"] = len(touched)
    return data


def runs_to_json(
    summary: RunResult, repetitions: list[RunResult], replacements: dict[str, str]
) -> str:
    """Serialise the summary and every repetition; each key of ``replacements`` (such
    as the work directory's absolute path) is replaced by its value."""
    data = {"summary": _run_dict(summary), "repetitions": [_run_dict(r) for r in repetitions]}
    text = json.dumps(data, indent=2)
    for original, masked in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(original)[1:-1], masked)
    return text + "\n"


def machine_info() -> dict[str, str]:
    """CPU, memory, kernel and Python of this machine."""
    info = {
        "cpus": str(len(os.sched_getaffinity(0))),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    return {key: value for key, value in info.items() if value}


def _proc_field(path: str, key: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return ""
