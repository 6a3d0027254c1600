"""Start-up CPU time of `drkit --version` and `drkit snapshots`, with and without bytecode.

Builds the wheel, installs it into two fresh virtual environments (one with
``--compile-bytecode``, as docs/install.md says, one without), and runs each
command with PYTHONDONTWRITEBYTECODE=1, so the uncompiled install compiles on
every run as a read-only install would. Prints the median user+system CPU
time of the child processes. Run from the repository root:

    .venv/bin/python -m bench.bytecode [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = str(Path(sys.executable).with_name("uv"))


def _cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _venv(work: Path, wheel: Path, name: str, *options: str) -> Path:
    venv = work / name
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [UV, "pip", "install", "-q", "--python", python, *options, str(wheel)], check=True
    )
    return venv / "bin" / "drkit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory(prefix="drkit-bench-bytecode-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [UV, "build", "--wheel", "-q", "--out-dir", str(work), str(ROOT)], check=True
        )
        (wheel,) = work.glob("drkit-*.whl")
        installs = {
            "no bytecode": _venv(work, wheel, "plain"),
            "--compile-bytecode": _venv(work, wheel, "compiled", "--compile-bytecode"),
        }
        env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "DRKIT_PASSWORD": "bench",
            "DRKIT_KDF_MEMORY_KIB": "8192",
            "DRKIT_HOME": str(work / "home"),
            "DRKIT_CACHE_DIR": str(work / "cache"),
        }
        repo = str(work / "repo")
        init = [str(installs["no bytecode"]), "--repo", repo, "init"]
        subprocess.run(init, check=True, env=env, capture_output=True)
        print("| command | install | CPU time (median of", repeat, "runs) |")
        print("| --- | --- | ---: |")
        for label, args in (
            ("--version", ["--version"]),
            ("snapshots", ["--repo", repo, "snapshots"]),
        ):
            for install, drkit in installs.items():
                times = [_cpu_seconds([str(drkit), *args], env) for _ in range(repeat)]
                print(f"| `drkit {label}` | {install} | {statistics.median(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
