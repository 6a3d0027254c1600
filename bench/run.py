"""Benchmark drkit, restic and borg side by side on the same deterministic dataset.

Run from the repository root::

    python -m bench.run [--tools drkit,restic,borg] [--size-scale 1.0] [--repeat N]
                        [--dataset synthetic|system|small] [--files N] [--cold]
                        [--work bench/work] [--output FILE] [--markdown FILE] [--keep]

Phases, each run for every tool before the next phase starts (tools in the order
given): init, initial backup, unchanged re-backup, mutation of ~5 % of the data (not
timed, synthetic data set only), re-backup, restore of the latest snapshot into an
empty directory (verified file by file against the source), full data check. By
default every phase runs with a warm page cache (the data set was just written);
``--cold`` drops the page cache (``echo 3 > /proc/sys/vm/drop_caches``, root only)
after a sync before every measured command. In a VM or container the host may
still cache the disk, so "cold" can be partly served from the host's memory.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import aggregate, dataset, report
from bench.limits import drop_caches, phase_bound
from bench.limits import measure as measure_limits
from bench.measure import (
    CommandResult,
    disk_usage,
    launcher_floor_kib,
    log_tail,
    run_measured,
    summary_line,
)
from bench.realdata import make_small, make_system
from bench.results import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_UNAVAILABLE,
    RunResult,
    ToolResult,
    machine_info,
    runs_to_json,
)
from bench.tools import RUNNERS, Invocation, ToolRunner, ensure_borg14
from bench.verify import TreeManifest, manifest, verify_restore

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = REPO_ROOT / "bench" / "work"
DEFAULT_DRKIT = REPO_ROOT / ".venv" / "bin" / "drkit"
WORK_MARKER = ".drkit-bench-work"
SOURCE_NAME = "dataset"
PASSWORD = "drkit-bench-password"  # throwaway repositories only
DEFAULT_TIMEOUT_S = 4 * 3600

NOTES = [
    "All phases run warm (page cache not dropped); the dataset was just written."
    " Dirty pages are flushed (sync) before every measured command.",
    "Each tool backs up the same relative path `dataset` from the dataset's parent dir.",
    "Time is wall-clock. Peak RSS is the tool process's ru_maxrss from wait4, taken by a"
    " tiny launcher (bench/launch.py) so the harness's memory is not counted.",
    "Passwords come from RESTIC_PASSWORD / BORG_PASSPHRASE / DRKIT_PASSWORD.",
]


def _cache_note(args: argparse.Namespace) -> str:
    if args.cold:
        return (
            "Cold cache: the page cache is dropped (`echo 3 > /proc/sys/vm/drop_caches`)"
            " before every measured command, after a sync."
        )
    return NOTES[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tools", default="drkit,restic,borg", help="comma-separated list")
    parser.add_argument("--size-scale", type=float, default=1.0, help="1.0 = ~1 GiB dataset")
    parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch directory")
    parser.add_argument("--output", type=Path, help="write all measurements as JSON here")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown report here")
    parser.add_argument("--drkit-cmd", default=str(DEFAULT_DRKIT), help="drkit command line")
    parser.add_argument("--restic-cmd", default="restic")
    parser.add_argument("--borg-cmd", default="borg")
    parser.add_argument(
        "--borg14-cmd", default="", help="borg 1.4 command (default: a venv the bench makes)"
    )
    parser.add_argument(
        "--dataset",
        choices=("synthetic", "system", "small"),
        default="synthetic",
        help="synthetic (bench.dataset), system (a copy of /usr files) or small (--files N)",
    )
    parser.add_argument("--files", type=int, default=10_000, help="files of the small data set")
    parser.add_argument(
        "--cold", action="store_true", help="drop the page cache before every command (root)"
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per command, s")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; report medians")
    parser.add_argument("--keep", action="store_true", help="keep repositories and dataset")
    args = parser.parse_args(argv)
    args.tools = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown = [name for name in args.tools if name not in RUNNERS]
    if unknown or not args.tools:
        parser.error(f"unknown tools {unknown}; choose from {', '.join(RUNNERS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.size_scale <= 0:
        parser.error("--size-scale must be positive")
    return args


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Benchmark:
    """Drives all phases for all tools and collects a ``RunResult``."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work.resolve()
        self.data_parent = self.work / "data"
        self.source = self.data_parent / SOURCE_NAME
        self.runners: list[ToolRunner] = [self._make_runner(name) for name in args.tools]
        self.prepared = False  # True once the work dir is known to be ours
        self.results = {r.name: ToolResult(r.name, r.command) for r in self.runners}
        self.run = RunResult(
            started_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            machine=machine_info(),
            options={
                "tools": args.tools,
                "size_scale": args.size_scale,
                "seed": args.seed,
                "repeat": args.repeat,
                "dataset": args.dataset,
                "files": args.files,
                "cold": args.cold,
            },
            notes=[*NOTES[1:], _cache_note(args)],
            tools=list(self.results.values()),
        )

    def _make_runner(self, name: str) -> ToolRunner:
        given = getattr(self.args, f"{name}_cmd")
        if name == "borg14" and not given:
            log("borg14: making its venv with pip (once)")
            given = ensure_borg14(self.work.parent / "borg14-venv")
        command = shlex.split(given)
        return RUNNERS[name](command, self.work / name, PASSWORD)

    # -- setup ---------------------------------------------------------------------

    def prepare_work_dir(self) -> None:
        """Create the work dir, refusing to clear a non-empty dir we did not create."""
        marker = self.work / WORK_MARKER
        if self.work.exists() and any(self.work.iterdir()) and not marker.exists():
            raise SystemExit(
                f"refusing to use non-empty work dir without {WORK_MARKER}: {self.work}"
            )
        self.work.mkdir(parents=True, exist_ok=True)
        marker.touch()
        for name in ("data", "restore", *RUNNERS):
            shutil.rmtree(self.work / name, ignore_errors=True)
        for runner in self.runners:
            runner.workdir.mkdir(parents=True)
        self.prepared = True

    def measure_rss_floor(self) -> None:
        floor = launcher_floor_kib()
        self.run.rss_floor_kib = floor
        self.run.notes.append(
            f"RSS floor of the launcher: {floor / 1024:.1f} MiB (a smaller process shows this)."
        )

    def check_tools(self) -> None:
        for runner in self.runners:
            result = self.results[runner.name]
            reason = runner.unavailable_reason()
            if reason is not None:
                result.status = STATUS_UNAVAILABLE
                result.errors.append(reason)
                log(f"{runner.name}: UNAVAILABLE: {reason}")
                continue
            result.version = runner.version()
            result.settings = runner.settings
            log(f"{runner.name}: {result.version}; {result.settings}")

    def generate_dataset(self) -> None:
        if self.args.dataset != "synthetic":
            self.generate_real()
            return
        log(f"generating dataset (scale {self.args.size_scale}) in {self.source}")
        start = time.perf_counter()
        self.run.dataset = dataset.generate(self.source, self.args.seed, self.args.size_scale)
        self.run.dataset_generation_s = time.perf_counter() - start
        stats = self.run.dataset
        log(f"dataset: {stats.total_files} files, {stats.total_bytes / dataset.MIB:.1f} MiB")

    def generate_real(self) -> None:
        log(f"making the {self.args.dataset} data set in {self.source}")
        start = time.perf_counter()
        if self.args.dataset == "system":
            tree = make_system(self.source, self.args.size_scale)
        else:
            tree = make_small(self.source, self.args.files, self.args.seed)
        self.run.dataset_generation_s = time.perf_counter() - start
        self.run.tree = tree
        log(tree.describe())

    def measure_limits(self) -> None:
        log("measuring the machine's limits (zstd, disk, lstat)")
        self.run.limits = measure_limits(self.source, self.work)
        log(f"limits: {self.run.limits}")

    def print_bounds(self) -> None:
        """Each phase's bound and drkit's time as a multiple of it (issue 18, point 4)."""
        limits, drkit = self.run.limits, self.results.get("drkit")
        if limits is None or drkit is None:
            return
        usage = disk_usage(self.source)
        entries = sum(1 for _ in self.source.rglob("*"))
        repo = drkit.repo_size.get("after-changed") or drkit.repo_size.get("after-initial")
        for phase in ("backup-initial", "backup-unchanged", "restore", "check"):
            nbytes = repo.apparent_bytes if phase == "check" and repo else usage.apparent_bytes
            bound = phase_bound(limits, phase, nbytes, entries)
            outcome = drkit.phases.get(phase)
            if bound is None or outcome is None or not outcome.ok:
                continue
            multiple = outcome.wall_s / bound.seconds
            self.run.bounds[phase] = (bound.seconds, bound.by, multiple)
            log(
                f"bound {phase}: {bound.seconds:.2f} s ({bound.by}); "
                f"drkit {outcome.wall_s:.2f} s = {multiple:.1f}x"
            )

    def mutate_dataset(self) -> None:
        start = time.perf_counter()
        self.run.mutation = dataset.mutate(self.source, self.args.seed)
        self.run.mutation_s = time.perf_counter() - start
        log(f"mutation: {self.run.mutation.changed_bytes / dataset.MIB:.1f} MiB changed")

    # -- phases --------------------------------------------------------------------

    def _active(self) -> list[ToolRunner]:
        return [r for r in self.runners if self.results[r.name].runnable]

    def _measure(
        self, runner: ToolRunner, phase: str, call: Invocation, *, fatal: bool = True
    ) -> CommandResult:
        """Run one phase for one tool. A ``fatal`` failure skips the tool's later phases."""
        result = self.results[runner.name]
        log(f"{runner.name}: {phase}: {shlex.join(call.argv)}")
        os.sync()  # flush earlier writes so their writeback does not land in this timing
        if self.args.cold and not drop_caches():
            log("cannot drop the page cache (not root?): this command runs warm")
        outcome = run_measured(
            call.argv,
            cwd=call.cwd,
            env=runner.env(),
            log_path=runner.workdir / "logs" / f"{phase}.log",
            timeout_s=self.args.timeout,
        )
        result.phases[phase] = outcome
        if outcome.ok:
            log(
                f"{runner.name}: {phase}: {outcome.wall_s:.2f} s, "
                f"peak RSS {outcome.max_rss_mib:.0f} MiB"
            )
        else:
            reason = outcome.error or f"exit status {outcome.returncode}"
            tail = log_tail(outcome.log)
            log(f"{runner.name}: {phase}: FAILED ({reason})\n{tail}")
            message = f"{phase} failed ({reason}): {summary_line(tail)}"
            if fatal:
                result.fail(message)
            else:
                result.errors.append(message)
        return outcome

    def phase(self, phase: str, build: Callable[[ToolRunner], Invocation]) -> None:
        for runner in self.runners:
            result = self.results[runner.name]
            if result.runnable:
                self._measure(runner, phase, build(runner))
            elif result.status == STATUS_FAILED:
                result.skipped.append(phase)

    def record_repo_sizes(self, point: str) -> None:
        for runner in self._active():
            self.results[runner.name].repo_size[point] = disk_usage(runner.repo)

    def record_snapshot_counts(self, expected: int) -> None:
        for runner in self._active():
            result = self.results[runner.name]
            result.snapshot_count = runner.snapshot_count()
            if result.snapshot_count != expected:
                log(
                    f"{runner.name}: WARNING: expected {expected} snapshots, "
                    f"found {result.snapshot_count}"
                )

    def restore_and_verify(self, source: TreeManifest) -> None:
        for runner in self.runners:
            result = self.results[runner.name]
            if not result.runnable:
                if result.status == STATUS_FAILED:
                    result.skipped.append("restore")
                continue
            target = self.work / "restore" / runner.name
            target.mkdir(parents=True)
            call = runner.restore_latest(target)
            outcome = self._measure(runner, "restore", call, fatal=False)
            if outcome.ok:
                self._verify(result, source, target)
            shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(self.work / "restore", ignore_errors=True)

    def _verify(self, result: ToolResult, source: TreeManifest, target: Path) -> None:
        check = verify_restore(source, self.source, target)
        result.restore_check = check
        if check.ok:
            log(f"{result.name}: restore verified: {check.message}")
            return
        banner = "!" * 72
        log(f"{banner}\n{result.name}: RESTORE VERIFICATION FAILED: {check.message}\n{banner}")
        # The restore ran, so later phases may still run: record without blocking them.
        result.errors.append(f"restore verification failed: {check.message}")

    def execute(self) -> RunResult:
        self.prepare_work_dir()
        self.measure_rss_floor()
        self.check_tools()
        self.generate_dataset()
        self.measure_limits()
        self.phase("init", lambda r: r.init())
        self.phase("backup-initial", lambda r: r.backup(SOURCE_NAME, self.data_parent, "initial"))
        self.record_repo_sizes("after-initial")
        self.phase(
            "backup-unchanged", lambda r: r.backup(SOURCE_NAME, self.data_parent, "unchanged")
        )
        if self.args.dataset == "synthetic":
            self.mutate_dataset()
            self.phase(
                "backup-changed", lambda r: r.backup(SOURCE_NAME, self.data_parent, "changed")
            )
            self.record_repo_sizes("after-changed")
        self.record_snapshot_counts(3 if self.args.dataset == "synthetic" else 2)
        log("hashing source tree for restore verification")
        self.restore_and_verify(manifest(self.source))
        self.phase("check", lambda r: r.check_read_data())
        self.print_bounds()
        for result in self.results.values():
            if result.errors and result.status == STATUS_OK:
                result.status = STATUS_FAILED
        return self.run

    def cleanup(self) -> None:
        """Remove repositories and dataset (not the command logs) unless ``--keep``."""
        if not self.prepared:
            return
        if self.args.keep:
            log(f"kept work dir {self.work}")
            return
        shutil.rmtree(self.data_parent, ignore_errors=True)
        shutil.rmtree(self.work / "restore", ignore_errors=True)
        for runner in self.runners:
            for entry in runner.workdir.iterdir():
                if entry.name != "logs":
                    shutil.rmtree(entry, ignore_errors=True)
        log(f"removed repositories and dataset; command logs are in {self.work}/<tool>/logs")


def run_repetitions(args: argparse.Namespace) -> tuple[list[RunResult], Path]:
    runs: list[RunResult] = []
    for index in range(1, args.repeat + 1):
        if args.repeat > 1:
            log(f"=== repetition {index} of {args.repeat} ===")
        bench = Benchmark(args)
        try:
            runs.append(bench.execute())
        finally:
            bench.cleanup()
    return runs, bench.work


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs, work = run_repetitions(args)
    summary = aggregate.combine(runs)
    markdown = report.render(summary)
    print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown + "\n")
    if args.output:
        masks = {str(work): "$WORK", str(REPO_ROOT): "$REPO"}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(runs_to_json(summary, runs, masks))
        log(f"wrote {args.output}")
    if not summary.ok:
        failed = [tool.name for tool in summary.tools if tool.status != STATUS_OK]
        log(f"FAILED OR UNAVAILABLE: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
