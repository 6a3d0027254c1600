"""Start-up cost of commands a user types, beside restic's equivalent where one exists.

    python -m bench.startup [--runs N] [--before OLD/src]

Builds a tiny catalog and repository in a temporary directory (bytecode
compiled first, as an install does), then runs each command N times and
prints the median CPU time (user + system) and wall time as a Markdown table.
restic's ``snapshots`` runs beside ``drkit snapshots`` when ``restic`` is on
PATH. Commands that read only the catalog aim at <= 0.3 s of CPU; they read
it with sqlite3, and the last column runs them through the ORM instead
(``DRKIT_QUICK_READ=off``: SQLAlchemy imported, as before the quick reads).
``--before`` names the ``src`` of an older checkout (``git worktree add``):
each catalog-only command then runs with it too (``PYTHONPATH``, same venv).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.measure import CommandResult, run_measured

DRKIT = [sys.executable, "-m", "drkit"]
CATALOG_ONLY = (["runs"], ["jobs"], ["config", "log"], ["status"])
PASSWORD = "bench-startup-passphrase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="the src folder of an older checkout")
    args = parser.parse_args()
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "src"), quiet=1)
    if args.before:
        compileall.compile_dir(str(args.before), quiet=1)
    with tempfile.TemporaryDirectory(prefix="drkit-bench-startup-") as tmp:
        work = Path(tmp)
        env = _environment(work)
        _prepare(work, env)
        orm = {**env, "DRKIT_QUICK_READ": "off"}
        older = {**env, "PYTHONPATH": str(args.before)} if args.before else None
        rows = []
        for c in CATALOG_ONLY:
            name, cpu, wall = _row("drkit " + " ".join(c), [*DRKIT, *c], work, env, args.runs)
            extra = [_row(name, [*DRKIT, *c], work, orm, args.runs)[1]]
            if older is not None:
                extra.append(_row(name, [*DRKIT, *c], work, older, args.runs)[1])
            rows.append((name, cpu, wall, [f"{e:.2f} s" for e in extra]))
        dashes = ["-"] * (2 if older is not None else 1)
        rows.append((*_row("drkit snapshots", [*DRKIT, "snapshots"], work, env, args.runs), dashes))
        if shutil.which("restic"):
            restic = _row("restic snapshots", ["restic", "snapshots"], work, env, args.runs)
            rows.append((*restic, dashes))
    heads = ["median CPU through the ORM"] + (["median CPU before"] if older is not None else [])
    print(f"| command | median CPU | median wall | {' | '.join(heads)} |")
    print("| --- | ---: | ---: |" + " ---: |" * len(heads))
    for name, cpu, wall, extra in rows:
        print(f"| `{name}` | {cpu:.2f} s | {wall:.2f} s | {' | '.join(extra)} |")


def _environment(work: Path) -> dict[str, str]:
    (work / "drkit.yaml").write_text(
        "version: 1\n"
        f"repositories:\n  local:\n    url: {work / 'repo'}\n"
        f"policies:\n  bench:\n    sources: [{{type: files, paths: [{work / 'data'}]}}]\n"
        "    repositories: [local]\n"
    )
    return {
        **os.environ,
        "DRKIT_HOME": str(work / "home"),
        "DRKIT_CONFIG": str(work / "drkit.yaml"),
        "DRKIT_REPO": "local",
        "DRKIT_PASSWORD": PASSWORD,
        "RESTIC_REPOSITORY": str(work / "restic"),
        "RESTIC_PASSWORD": PASSWORD,
    }


def _prepare(work: Path, env: dict[str, str]) -> None:
    data = work / "data"
    data.mkdir()
    (data / "hello.txt").write_text("hello\n")
    steps = [[*DRKIT, "init"], [*DRKIT, "backup", "--policy", "bench"], [*DRKIT, "runs"]]
    if shutil.which("restic"):
        steps += [["restic", "init"], ["restic", "backup", str(data)]]
    for argv in steps:
        done = run_measured(argv, cwd=work, env=env, log_path=work / "logs" / "prepare.log")
        if not done.ok:
            raise SystemExit(f"preparing failed: {' '.join(argv)}: {done.error or done.log}")


def _row(
    name: str, argv: list[str], work: Path, env: dict[str, str], runs: int
) -> tuple[str, float, float]:
    results: list[CommandResult] = []
    for i in range(runs):
        done = run_measured(argv, cwd=work, env=env, log_path=work / "logs" / f"{i}.log")
        if not done.ok:
            raise SystemExit(f"{name} failed: {done.error or done.log}")
        results.append(done)
    cpu = statistics.median(r.user_s + r.sys_s for r in results)
    return name, cpu, statistics.median(r.wall_s for r in results)


if __name__ == "__main__":
    main()
