"""How time and peak RSS grow with the number of files: the ``small`` data set at several sizes.

Run from the repository root (matplotlib is in the dev group)::

    python -m bench.curve [--files 10000,100000,1000000] [--tools drkit] [--cold]
                          [--output FILE.json] [--markdown FILE.md] [--plot FILE.png]

Each size is one ``bench.run`` run (fresh repositories, fresh tree). The table
gives wall time and peak RSS per phase and size; the plot shows both against
the file count on log axes, so a straight line of slope 1 is linear time and a
flat line flat memory.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import run as bench_run
from bench.results import PHASE_TITLES, RunResult

PHASES = ("backup-initial", "backup-unchanged", "restore", "check")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.curve", description=__doc__)
    parser.add_argument("--files", default="10000,100000,1000000")
    parser.add_argument("--tools", default="drkit")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--work", type=Path, default=bench_run.DEFAULT_WORK)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    args.sizes = [int(n) for n in args.files.split(",") if n]
    return args


def measure(args: argparse.Namespace, files: int) -> RunResult:
    argv = ["--tools", args.tools, "--dataset", "small", "--files", str(files)]
    argv += ["--work", str(args.work)] + (["--cold"] if args.cold else [])
    bench = bench_run.Benchmark(bench_run.parse_args(argv))
    try:
        return bench.execute()
    finally:
        bench.cleanup()


def rows(results: dict[int, RunResult]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for files, result in results.items():
        for tool in result.tools:
            for phase in PHASES:
                outcome = tool.phases.get(phase)
                if outcome is None or not outcome.ok:
                    continue
                out.append(
                    {
                        "files": files,
                        "tool": tool.name,
                        "phase": phase,
                        "wall_s": round(outcome.wall_s, 2),
                        "cpu_s": round(outcome.user_s + outcome.sys_s, 2),
                        "rss_mib": round(outcome.max_rss_mib, 1),
                    }
                )
    return out


def markdown(table: list[dict[str, object]]) -> str:
    lines = [
        "| tool | phase | files | wall | CPU | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(table, key=lambda r: (str(r["tool"]), str(r["phase"]), int(r["files"]))):  # type: ignore[call-overload]
        lines.append(
            f"| {row['tool']} | {PHASE_TITLES[str(row['phase'])]} | {row['files']:,} | "
            f"{row['wall_s']} s | {row['cpu_s']} s | {row['rss_mib']} MiB |"
        )
    return "\n".join(lines)


def plot(table: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_rss) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tool in sorted({str(r["tool"]) for r in table}):
        for phase in PHASES:
            points = sorted(
                (int(r["files"]), float(r["wall_s"]), float(r["rss_mib"]))  # type: ignore[arg-type]
                for r in table
                if r["tool"] == tool and r["phase"] == phase
            )
            if not points:
                continue
            label = f"{tool}: {PHASE_TITLES[phase]}"
            ax_time.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
            ax_rss.plot([p[0] for p in points], [p[2] for p in points], marker="o", label=label)
    for ax, title in ((ax_time, "wall time (s)"), (ax_rss, "peak RSS (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("files")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax_rss.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = {files: measure(args, files) for files in args.sizes}
    table = rows(results)
    text = markdown(table)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.output:
        args.output.write_text(json.dumps(table, indent=2) + "\n")
    if args.plot:
        plot(table, args.plot)
    return 0 if all(r.ok for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
