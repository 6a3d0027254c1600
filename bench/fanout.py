"""Fan-out benchmark: one drkit backup into local + S3 + SFTP against three restic backups.

Run from the repository root::

    python3 -m bench.fanout [--size-scale 1.0] [--repeat N] [--work bench/work/fanout]
                            [--output FILE] [--markdown FILE] [--keep]

For every repetition a fresh moto S3 server and a fresh OpenSSH sshd are started on
loopback ports (``bench/servers.py``); then:

1. drkit: three repositories (local folder, ``s3://drkit-bench/drkit?endpoint=...``,
   ``sftp://USER@127.0.0.1:PORT/PATH?key=...&known_hosts=...``), each with its own
   passphrase (``password_file`` in a generated drkit.yaml) and one policy ``bench``
   over the dataset and the three repositories; ``drkit init`` each.
2. restic: the same three targets (local folder, ``s3:http://127.0.0.1:PORT/restic-bench``,
   ``sftp:USER@127.0.0.1:PATH`` through ``-o sftp.command="ssh ..."``), each with its
   own passphrase; ``restic init`` each.
3. Initial backup: ONE ``drkit backup --policy bench``, then three ``restic backup``
   runs (local, S3, SFTP), whose times are added up.
4. The same again with nothing changed.
5. Repository sizes; snapshot counts in all six repositories; a restore from each
   drkit repository, compared file by file with the source (``bench/verify.py``);
   ``drkit check --read-data`` of each drkit repository.

The dataset (``bench/dataset.py``) is generated once and used by every repetition.
Wall time, CPU time and peak RSS of every command come from ``bench/measure.py``
(through ``bench/launch.py``, as in ``bench/run.py``). The CPU time moto and sshd use
while a command runs is recorded too: they share the machine's cores with the tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dataset
from bench.measure import CommandResult, disk_usage, launcher_floor_kib, log_tail, run_measured
from bench.results import machine_info
from bench.servers import AWS_UNSET, FAKE_AWS_ENV, MotoServer, SshServer
from bench.tools import FOREIGN_SETTINGS, RESTIC_REPO_VERSION
from bench.verify import TreeManifest, VerifyResult, manifest, verify_restore

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = REPO_ROOT / "bench" / "work" / "fanout"
DEFAULT_DRKIT = REPO_ROOT / ".venv" / "bin" / "drkit"
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
WORK_MARKER = ".drkit-bench-fanout-work"
SOURCE_NAME = "dataset"
POLICY = "bench"
TARGETS = ("local", "s3", "sftp")
TARGET_TITLES = {"local": "local", "s3": "S3 (moto)", "sftp": "SFTP (sshd)"}
DRKIT_BUCKET = "drkit-bench"
DRKIT_PREFIX = "drkit"
RESTIC_BUCKET = "restic-bench"
TARGET_RATIO = 0.5
DEFAULT_TIMEOUT_S = 2 * 3600
SESSION_WAIT_S = 5.0
FANOUT = "fanout"
BACKUP_PHASES = {"backup-initial": "initial backup", "backup-unchanged": "unchanged re-run"}


def passphrase(tool: str, target: str) -> str:
    """A distinct throwaway passphrase per repository."""
    return f"{tool}-bench-{target}-passphrase"


def log(message: str) -> None:
    print(f"[fanout] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size-scale", type=float, default=1.0, help="1.0 = ~1 GiB dataset")
    parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; report medians")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch directory")
    parser.add_argument("--output", type=Path, help="write all measurements as JSON here")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown report here")
    parser.add_argument("--drkit-cmd", default=str(DEFAULT_DRKIT), help="drkit command line")
    parser.add_argument("--restic-cmd", default="restic", help="restic command line")
    parser.add_argument("--python", type=Path, default=VENV_PYTHON, help="interpreter for moto")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per command, s")
    parser.add_argument("--keep", action="store_true", help="keep repositories and dataset")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.size_scale <= 0:
        parser.error("--size-scale must be positive")
    return args


# -- results -----------------------------------------------------------------------


@dataclass
class Step:
    """One measured command and the CPU the servers used meanwhile."""

    tool: str
    phase: str
    target: str
    result: CommandResult
    moto_cpu_s: float = 0.0
    sshd_cpu_s: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.tool}/{self.phase}/{self.target}"


@dataclass
class Size:
    """Stored size of one repository: files or objects and their total bytes."""

    files: int
    bytes: int
    allocated_bytes: int | None = None  # du, for repositories on the local disk


@dataclass
class Repetition:
    index: int
    steps: dict[str, Step] = field(default_factory=dict)
    sizes: dict[str, Size] = field(default_factory=dict)  # "tool/target"
    snapshots: dict[str, int | None] = field(default_factory=dict)  # "tool/target"
    verify: dict[str, VerifyResult] = field(default_factory=dict)  # drkit target
    errors: list[str] = field(default_factory=list)

    def wall(self, key: str) -> float:
        return self.steps[key].result.wall_s

    def ok(self, key: str) -> bool:
        step = self.steps.get(key)
        return step is not None and step.result.ok


# -- one repetition ----------------------------------------------------------------


def first_tool(index: int) -> str:
    """Which tool backs up first in repetition ``index`` (1-based): they alternate."""
    return "drkit" if index % 2 else "restic"


class FanoutRun:
    """Servers, repositories and measured commands of one repetition."""

    def __init__(self, args: argparse.Namespace, index: int, source: Path) -> None:
        self.args = args
        self.work: Path = args.work.resolve()
        self.source = source
        self.drkit = shlex.split(args.drkit_cmd)
        self.restic = shlex.split(args.restic_cmd)
        self.rep = Repetition(index)
        self.logs = self.work / "logs" / f"rep{index}"
        self.drkit_dir = self.work / "drkit"
        self.restic_dir = self.work / "restic"
        self.config = self.drkit_dir / "drkit.yaml"
        self.moto: MotoServer
        self.sshd: SshServer

    # -- setup -----------------------------------------------------------------

    def reset_dirs(self) -> None:
        for name in ("drkit", "restic", "servers", "restore"):
            shutil.rmtree(self.work / name, ignore_errors=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        for folder in (self.drkit_dir, self.restic_dir, self.logs):
            folder.mkdir(parents=True)

    def repo_path(self, tool: str, target: str) -> Path:
        """Folder of a local or SFTP repository (SFTP ones are served by sshd)."""
        return self.work / tool / f"repo-{target}"

    def base_env(self, tool: str) -> dict[str, str]:
        env = dict(os.environ)
        for key in (*FOREIGN_SETTINGS, *AWS_UNSET, "DRKIT_PASSWORD", "RESTIC_PASSWORD"):
            env.pop(key, None)
        env.update(FAKE_AWS_ENV)
        env["XDG_CACHE_HOME"] = str(self.work / tool / "cache")
        env["XDG_CONFIG_HOME"] = str(self.work / tool / "config")
        return env

    def drkit_env(self) -> dict[str, str]:
        env = self.base_env("drkit")
        env["DRKIT_HOME"] = str(self.drkit_dir / "home")
        env["DRKIT_CACHE_DIR"] = str(self.drkit_dir / "cache" / "drkit")
        return env

    def restic_env(self, target: str) -> dict[str, str]:
        env = self.base_env("restic")
        env["RESTIC_CACHE_DIR"] = str(self.restic_dir / "cache" / "restic")
        env["RESTIC_PASSWORD"] = passphrase("restic", target)
        return env

    def drkit_url(self, target: str) -> str:
        if target == "local":
            return str(self.repo_path("drkit", target))
        if target == "s3":
            return f"s3://{DRKIT_BUCKET}/{DRKIT_PREFIX}?endpoint={self.moto.endpoint}"
        return self.sshd.url(self.repo_path("drkit", target))

    def restic_repo(self, target: str) -> list[str]:
        if target == "local":
            return ["--repo", str(self.repo_path("restic", target))]
        if target == "s3":
            return ["--repo", f"s3:{self.moto.endpoint}/{RESTIC_BUCKET}"]
        path = self.repo_path("restic", target)
        return [
            "--repo",
            f"sftp:{self.sshd.user}@{self.sshd.host}:{path}",
            "-o",
            f"sftp.command={self.sshd.ssh_command()}",
        ]

    def write_config(self) -> None:
        """drkit.yaml: three repositories, each with its own password file; one policy."""
        media = {"local": "disk", "s3": "object", "sftp": "disk"}
        site = {"local": "bench-host", "s3": "moto", "sftp": "sshd"}
        lines = ["version: 1", "repositories:"]
        for target in TARGETS:
            secret = self.drkit_dir / f"{target}.pass"
            secret.write_text(passphrase("drkit", target) + "\n")
            secret.chmod(0o600)
            lines += [
                f"  {target}:",
                f"    url: {json.dumps(self.drkit_url(target))}",
                f"    media: {media[target]}",
                f"    site: {site[target]}",
                f"    password_file: {json.dumps(str(secret))}",
            ]
        lines += [
            "policies:",
            f"  {POLICY}:",
            f"    sources: [{json.dumps(str(self.source))}]",
            f"    repositories: [{', '.join(TARGETS)}]",
            "",
        ]
        self.config.write_text("\n".join(lines))

    # -- measuring -------------------------------------------------------------

    def measure(
        self, tool: str, phase: str, target: str, argv: list[str], env: dict[str, str]
    ) -> Step:
        log(f"{tool} {phase} {target}: {shlex.join(argv)}")
        os.sync()  # earlier writes' writeback must not land in this timing
        moto_before, sshd_before = self.moto.cpu_s(), self.sshd.cpu_s()
        result = run_measured(
            argv,
            cwd=self.source.parent,
            env=env,
            log_path=self.logs / f"{tool}-{phase}-{target}.log",
            timeout_s=self.args.timeout,
        )
        self.wait_sessions_closed()
        step = Step(
            tool,
            phase,
            target,
            result,
            moto_cpu_s=self.moto.cpu_s() - moto_before,
            sshd_cpu_s=self.sshd.cpu_s() - sshd_before,
        )
        self.rep.steps[step.key] = step
        if result.ok:
            log(
                f"{tool} {phase} {target}: {result.wall_s:.2f} s wall, "
                f"{result.user_s + result.sys_s:.2f} s CPU, {result.max_rss_mib:.0f} MiB; "
                f"moto {step.moto_cpu_s:.2f} s, sshd {step.sshd_cpu_s:.2f} s CPU"
            )
        else:
            reason = result.error or f"exit status {result.returncode}"
            log(f"{tool} {phase} {target}: FAILED ({reason})\n{log_tail(result.log)}")
            self.rep.errors.append(f"{step.key} failed ({reason})")
        return step

    def wait_sessions_closed(self) -> None:
        """Let sshd reap finished sessions, so their CPU time is counted."""
        deadline = time.monotonic() + SESSION_WAIT_S
        while self.sshd.session_pids() and time.monotonic() < deadline:
            time.sleep(0.02)

    def drkit_cmd(self, *args: str, repo: str | None = None) -> list[str]:
        base = [*self.drkit, "--config", str(self.config)]
        if repo is not None:
            base += ["--repo", repo]
        return [*base, *args]

    # -- phases ----------------------------------------------------------------

    def init(self) -> None:
        for target in TARGETS:
            argv = self.drkit_cmd("init", "--quiet", repo=target)
            self.measure("drkit", "init", target, argv, self.drkit_env())
        for target in TARGETS:
            argv = [
                *self.restic,
                *self.restic_repo(target),
                "init",
                "--repository-version",
                RESTIC_REPO_VERSION,
            ]
            self.measure("restic", "init", target, argv, self.restic_env(target))

    def backup(self, phase: str) -> None:
        """One drkit fan-out and three restic backups; odd repetitions start with drkit,
        even ones with restic, so neither tool always meets the fresher servers."""
        drkit = self.drkit_cmd("backup", "--policy", POLICY, "--quiet")
        first = first_tool(self.rep.index)
        for tool in (first, "restic" if first == "drkit" else "drkit"):
            if tool == "drkit":
                self.measure("drkit", phase, FANOUT, drkit, self.drkit_env())
                continue
            for target in TARGETS:
                argv = [*self.restic, *self.restic_repo(target), "backup", "--quiet"]
                argv.append(str(self.source))
                self.measure("restic", phase, target, argv, self.restic_env(target))

    def record_sizes(self) -> None:
        for tool in ("drkit", "restic"):
            for target in TARGETS:
                if target == "s3":
                    bucket, prefix = (
                        (DRKIT_BUCKET, DRKIT_PREFIX + "/")
                        if tool == "drkit"
                        else (RESTIC_BUCKET, "")
                    )
                    usage = self.moto.usage(bucket, prefix)
                    size = Size(usage.objects, usage.bytes)
                else:
                    du = disk_usage(self.repo_path(tool, target))
                    size = Size(du.files, du.apparent_bytes, du.allocated_bytes)
                self.rep.sizes[f"{tool}/{target}"] = size
                log(f"{tool} {target}: {size.files} files, {size.bytes / dataset.MIB:.1f} MiB")

    def count_snapshots(self) -> None:
        for target in TARGETS:
            argv = self.drkit_cmd("snapshots", "--json", repo=target)
            self.rep.snapshots[f"drkit/{target}"] = self._count(argv, self.drkit_env())
            argv = [*self.restic, *self.restic_repo(target), "snapshots", "--json"]
            self.rep.snapshots[f"restic/{target}"] = self._count(argv, self.restic_env(target))
        for key, count in self.rep.snapshots.items():
            if count != len(BACKUP_PHASES):
                self.rep.errors.append(f"{key}: {count} snapshots, expected {len(BACKUP_PHASES)}")
        log(f"snapshots: {self.rep.snapshots}")

    def _count(self, argv: list[str], env: dict[str, str]) -> int | None:
        done = subprocess.run(
            argv,
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=self.args.timeout,
            check=False,
        )
        if done.returncode != 0:
            log(f"{shlex.join(argv)}: exit {done.returncode}\n{done.stderr[-2000:]}")
            return None
        try:
            data = json.loads(done.stdout)
            if isinstance(data, dict):
                data = data["snapshots"]
            return len(data)
        except (ValueError, KeyError, TypeError) as exc:
            log(f"{shlex.join(argv)}: unreadable JSON ({exc})")
            return None

    def restore_and_check(self, source: TreeManifest) -> None:
        for target in TARGETS:
            restore = self.work / "restore" / target
            restore.mkdir(parents=True)
            argv = self.drkit_cmd(
                "restore", "latest", "--target", str(restore), "--quiet", repo=target
            )
            if self.measure("drkit", "restore", target, argv, self.drkit_env()).result.ok:
                check = verify_restore(source, self.source, restore)
                self.rep.verify[target] = check
                if check.ok:
                    log(f"drkit restore {target}: verified: {check.message}")
                else:
                    log(f"drkit restore {target}: VERIFICATION FAILED: {check.message}")
                    self.rep.errors.append(f"drkit restore {target}: {check.message}")
            shutil.rmtree(restore, ignore_errors=True)
            argv = self.drkit_cmd("check", "--read-data", "--quiet", repo=target)
            self.measure("drkit", "check", target, argv, self.drkit_env())

    def execute(self, source: TreeManifest) -> Repetition:
        self.reset_dirs()
        servers = self.work / "servers"
        with (
            MotoServer(self.args.python, servers / "moto.log") as self.moto,
            SshServer(servers / "sshd") as self.sshd,
        ):
            log(f"moto at {self.moto.endpoint}, sshd on port {self.sshd.port}")
            self.write_config()
            self.init()
            if not self.rep.errors:
                self.backup("backup-initial")
                self.record_sizes()
                self.backup("backup-unchanged")
                self.count_snapshots()
                self.restore_and_check(source)
        return self.rep

    def cleanup(self) -> None:
        """Remove repositories and restores (logs stay) unless ``--keep``."""
        if self.args.keep:
            return
        for name in ("drkit", "restic", "restore"):
            shutil.rmtree(self.work / name, ignore_errors=True)


# -- summary -----------------------------------------------------------------------


def _cpu(result: CommandResult) -> float:
    return result.user_s + result.sys_s


@dataclass
class Cell:
    """Median (and range) of one figure over the repetitions."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Cell:
        return cls(statistics.median(values), min(values), max(values))


def summarise(reps: list[Repetition]) -> dict[str, Any]:
    """Medians over the repetitions of every figure the report shows."""
    good = [rep for rep in reps if not rep.errors]
    if not good:
        return {"ok": False}
    figures: dict[str, Cell] = {}

    def add(name: str, values: list[float]) -> None:
        figures[name] = Cell.of(values)

    for key in good[0].steps:
        add(f"{key}/wall_s", [rep.steps[key].result.wall_s for rep in good])
        add(f"{key}/cpu_s", [_cpu(rep.steps[key].result) for rep in good])
        add(f"{key}/rss_mib", [rep.steps[key].result.max_rss_mib for rep in good])
        add(f"{key}/moto_cpu_s", [rep.steps[key].moto_cpu_s for rep in good])
        add(f"{key}/sshd_cpu_s", [rep.steps[key].sshd_cpu_s for rep in good])
    for phase in ("init", *BACKUP_PHASES):
        for metric, get in (
            ("wall_s", lambda s: s.result.wall_s),
            ("cpu_s", lambda s: _cpu(s.result)),
            ("moto_cpu_s", lambda s: s.moto_cpu_s),
            ("sshd_cpu_s", lambda s: s.sshd_cpu_s),
        ):
            for tool in ("drkit", "restic"):
                add(
                    f"{tool}/{phase}/sum/{metric}",
                    [
                        sum(
                            get(s) for s in rep.steps.values() if (s.tool, s.phase) == (tool, phase)
                        )
                        for rep in good
                    ],
                )
    for key in good[0].sizes:
        add(f"size/{key}/bytes", [rep.sizes[key].bytes for rep in good])
        add(f"size/{key}/files", [rep.sizes[key].files for rep in good])
    per_rep = [
        {
            "index": rep.index,
            "first": first_tool(rep.index),
            **{
                phase: rep.wall(f"drkit/{phase}/{FANOUT}")
                / sum(rep.wall(f"restic/{phase}/{target}") for target in TARGETS)
                for phase in BACKUP_PHASES
            },
        }
        for rep in good
    ]
    return {
        "ok": len(good) == len(reps),
        "repetitions_ok": len(good),
        "ratios_per_repetition": per_rep,
        "figures": {name: dataclasses.asdict(cell) for name, cell in figures.items()},
    }


# -- Markdown ----------------------------------------------------------------------


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _mib(value: float) -> str:
    return f"{value / dataset.MIB:.1f} MiB"


class Report:
    def __init__(self, summary: dict[str, Any], meta: dict[str, Any]) -> None:
        self.figures: dict[str, dict[str, float]] = summary.get("figures", {})
        self.ratios: list[dict[str, Any]] = summary.get("ratios_per_repetition", [])
        self.meta = meta
        self.repeat = meta["options"]["repeat"]

    def get(self, name: str) -> float:
        return self.figures[name]["median"]

    def wall(self, name: str) -> str:
        cell = self.figures[name]
        text = _s(cell["median"])
        if self.repeat > 1:
            text += f" ({cell['low']:.2f}-{cell['high']:.2f})"
        return text

    def backup_table(self) -> list[str]:
        lines = [
            "| | drkit fan-out (one run, 3 targets) | restic local | restic S3 | restic SFTP"
            " | restic sum of 3 | drkit / restic sum |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for phase, title in BACKUP_PHASES.items():
            drkit = f"drkit/{phase}/{FANOUT}"
            restic = [f"restic/{phase}/{target}" for target in TARGETS]
            ratio = self.get(f"drkit/{phase}/sum/wall_s") / self.get(f"restic/{phase}/sum/wall_s")
            cpu_ratio = self.get(f"drkit/{phase}/sum/cpu_s") / self.get(f"restic/{phase}/sum/cpu_s")
            lines.append(
                f"| {title}, wall time | {self.wall(drkit + '/wall_s')} | "
                + " | ".join(self.wall(key + "/wall_s") for key in restic)
                + f" | {self.wall(f'restic/{phase}/sum/wall_s')} | **{ratio:.2f}x** |"
            )
            lines.append(
                f"| {title}, CPU (user+sys) | {_s(self.get(drkit + '/cpu_s'))} | "
                + " | ".join(_s(self.get(key + "/cpu_s")) for key in restic)
                + f" | {_s(self.get(f'restic/{phase}/sum/cpu_s'))} | {cpu_ratio:.2f}x |"
            )
            rss = [self.get(key + "/rss_mib") for key in restic]
            lines.append(
                f"| {title}, peak RSS | {self.get(drkit + '/rss_mib'):.0f} MiB | "
                + " | ".join(f"{value:.0f} MiB" for value in rss)
                + f" | max {max(rss):.0f} MiB | {self.get(drkit + '/rss_mib') / max(rss):.2f}x |"
            )
            lines.append(
                f"| {title}, moto + sshd CPU meanwhile | "
                + " | ".join(
                    f"{self.get(k + '/moto_cpu_s'):.1f} + {self.get(k + '/sshd_cpu_s'):.1f} s"
                    for k in (drkit, *restic)
                )
                + f" | {self.get(f'restic/{phase}/sum/moto_cpu_s'):.1f}"
                f" + {self.get(f'restic/{phase}/sum/sshd_cpu_s'):.1f} s | |"
            )
        return lines

    def target_table(self) -> list[str]:
        lines = [
            "| target | drkit repo size | restic repo size | drkit / restic"
            " | drkit init | restic init | drkit restore (verified) | drkit check --read-data |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for target in TARGETS:
            drkit = self.get(f"size/drkit/{target}/bytes")
            restic = self.get(f"size/restic/{target}/bytes")
            files_d = self.get(f"size/drkit/{target}/files")
            files_r = self.get(f"size/restic/{target}/files")
            lines.append(
                f"| {TARGET_TITLES[target]} | {_mib(drkit)} ({files_d:.0f} files) | "
                f"{_mib(restic)} ({files_r:.0f} files) | {drkit / restic:.2f}x | "
                f"{_s(self.get(f'drkit/init/{target}/wall_s'))} | "
                f"{_s(self.get(f'restic/init/{target}/wall_s'))} | "
                f"{_s(self.get(f'drkit/restore/{target}/wall_s'))} | "
                f"{_s(self.get(f'drkit/check/{target}/wall_s'))} |"
            )
        return lines

    def per_repetition(self) -> list[str]:
        if self.repeat < 2:
            return []
        cells = [
            f"{rep['backup-initial']:.2f}x / {rep['backup-unchanged']:.2f}x ({rep['first']} first)"
            for rep in self.ratios
        ]
        return [
            "drkit / restic sum per repetition, initial backup / unchanged re-run: "
            + "; ".join(cells)
            + ".",
            "",
        ]

    def render(self) -> str:
        meta = self.meta
        stats = meta["dataset"]
        total = stats["text_bytes"] + stats["large_bytes"] + stats["small_bytes"]
        files = stats["text_files"] + stats["large_files"] + stats["small_files"]
        lines = [
            "# Fan-out: one drkit backup to local + S3 + SFTP vs three restic backups",
            "",
            f"{meta['started_utc']}; dataset {_mib(total)} in {files:,} files"
            f" (scale {meta['options']['size_scale']}, seed {meta['options']['seed']});"
            f" {self.repeat} repetition(s)"
            + (", medians (min-max)" if self.repeat > 1 else "")
            + f"; {meta['machine'].get('cpus', '?')} CPUs.",
            "",
            f"Versions: {meta['versions']['drkit']}; {meta['versions']['restic']};"
            f" moto {meta['versions']['moto']}; {meta['versions']['openssh']}.",
            "",
        ]
        if not self.figures:
            return "\n".join([*lines, "**No repetition completed without errors.**", ""])
        ratio = self.get("drkit/backup-initial/sum/wall_s") / self.get(
            "restic/backup-initial/sum/wall_s"
        )
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        lines += [
            *self.backup_table(),
            "",
            f"Target: drkit fan-out <= {TARGET_RATIO}x the sum of the three restic backups"
            f" (initial backup): {ratio:.2f}x, **{verdict}**.",
            "",
            *self.per_repetition(),
            "Per target (repository size = total size of its files or objects, after the"
            " initial backup):",
            "",
            *self.target_table(),
            "",
            *[f"- {note}" for note in meta["notes"]],
            "",
        ]
        return "\n".join(lines)


# -- driver ------------------------------------------------------------------------


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return f"unknown ({exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


NOTES = [
    "Wall time on a shared 2-vCPU VM is noisy (+-20-40 % between runs); CPU time is steadier.",
    "moto (Python, in memory) and sshd run on the same cores as the measured tool; their"
    " CPU time during each command is shown as `moto + sshd`.",
    "restic's CPU time includes its `ssh` client process (a child); drkit speaks SSH"
    " in-process (paramiko). Peak RSS is the tool process's own (bench/launch.py).",
    "Each repository has its own passphrase; drkit reads them from `password_file`"
    " entries in drkit.yaml, restic from RESTIC_PASSWORD.",
    "Warm page cache: the dataset was just written; `sync` before every measured command.",
    "Order: odd repetitions run the drkit fan-out first, even ones the three restic"
    " backups first; each repetition has fresh repositories and fresh moto and sshd.",
    "Restore and `check --read-data` are the verification steps (each drkit repository"
    " restored and compared file by file with the source); their times are shown but"
    " not compared with restic.",
]


def prepare_work(work: Path) -> None:
    marker = work / WORK_MARKER
    if work.exists() and any(work.iterdir()) and not marker.exists():
        raise SystemExit(f"refusing to use non-empty work dir without {WORK_MARKER}: {work}")
    work.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for name in ("data", "drkit", "restic", "servers", "restore", "logs"):
        shutil.rmtree(work / name, ignore_errors=True)


def to_json(meta: dict[str, Any], summary: dict[str, Any], reps: list[Repetition]) -> str:
    data = {**meta, "summary": summary, "repetitions": [dataclasses.asdict(r) for r in reps]}
    text = json.dumps(data, indent=2)
    masks = {str(meta["work_dir"]): "$WORK", str(REPO_ROOT): "$REPO"}
    for original, masked in sorted(masks.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(original)[1:-1], masked)
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work: Path = args.work.resolve()
    prepare_work(work)
    source = work / "data" / SOURCE_NAME
    meta: dict[str, Any] = {
        "benchmark": "fanout",
        "started_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine_info(),
        "options": {"size_scale": args.size_scale, "seed": args.seed, "repeat": args.repeat},
        "versions": {
            "drkit": _version([*shlex.split(args.drkit_cmd), "--version"]),
            "restic": _version([*shlex.split(args.restic_cmd), "version"]),
            "moto": _version([str(args.python), "-c", "import moto; print(moto.__version__)"]),
            "openssh": _version(["ssh", "-V"]),
        },
        "rss_floor_kib": launcher_floor_kib(),
        "notes": list(NOTES),
        "work_dir": str(work),
    }
    log(f"generating dataset (scale {args.size_scale}) in {source}")
    start = time.perf_counter()
    stats = dataset.generate(source, args.seed, args.size_scale)
    meta["dataset"] = dataclasses.asdict(stats)
    meta["dataset_generation_s"] = time.perf_counter() - start
    log(f"dataset: {stats.total_files} files, {stats.total_bytes / dataset.MIB:.1f} MiB")
    log("hashing source tree for restore verification")
    source_manifest = manifest(source)
    reps: list[Repetition] = []
    try:
        for index in range(1, args.repeat + 1):
            log(f"=== repetition {index} of {args.repeat} ===")
            run = FanoutRun(args, index, source)
            try:
                reps.append(run.execute(source_manifest))
            finally:
                run.cleanup()
    finally:
        if not args.keep:
            shutil.rmtree(work / "data", ignore_errors=True)
    summary = summarise(reps)
    markdown = Report(summary, meta).render()
    print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(to_json(meta, summary, reps))
        log(f"wrote {args.output}")
    errors = [error for rep in reps for error in rep.errors]
    for error in errors:
        log(f"ERROR: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
