"""Minimal launcher: run one command and write its wall time and rusage to a file.

Why this exists: on Linux a child's ``ru_maxrss`` is the maximum over its whole life,
including the moment before ``exec`` when it is still a copy of (or, with vfork, shares)
its parent's memory. Spawned directly from the benchmark harness, every tool would
report at least the harness's own peak RSS. This launcher is a fresh, tiny interpreter
(``python -I -S``, only builtin modules), so the floor it adds is ~8 MiB, and any tool
whose real peak is above that is measured exactly (``ru_maxrss`` is a maximum, not a
sum).

Usage: ``python -I -S launch.py RESULT_FILE CWD -- PROGRAM [ARGS...]``

RESULT_FILE receives one line: ``returncode wall_s user_s sys_s max_rss_kib``.
Standard output and error are inherited; standard input is ``/dev/null``.
"""

import os
import sys
import time


def main() -> int:
    result_file, cwd, separator, *argv = sys.argv[1:]
    if separator != "--" or not argv:
        print("usage: launch.py RESULT_FILE CWD -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    os.chdir(cwd)
    stdin = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=stdin)
    except OSError as exc:
        print(f"launch.py: cannot start {argv[0]}: {exc}", file=sys.stderr)
        line = "127 -1 0 0 0"  # negative wall time: never started
    else:
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        line = f"{code} {wall} {usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss}"
    with open(result_file, "w") as handle:
        handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
