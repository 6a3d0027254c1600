"""Running dump and restore tools as child processes, streaming through pipes.

:func:`stream_stdout` turns a dump tool's standard output into an iterator of
blocks for :class:`~drkit.repository.stream.StreamArchiver`; :func:`feed_stdin`
pipes stored blocks into a restore tool. Neither ever holds more than one
block: the pipe's back-pressure paces the faster side.

The tool's standard error is read on a thread (so a chatty tool never blocks
on a full stderr pipe) and its tail is kept: when the tool fails, that tail
is what the error shows. A tool that exits non-zero or is killed makes the
iterator raise :class:`DumpFailed` *after* its last block, so the archiver
never commits a dump that did not end well.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from drkit.sources.errors import DumpFailed, RestoreFailed, SourceToolMissing

BLOCK = 1024 * 1024
STDERR_TAIL = 16 * 1024  # bytes of stderr kept for the error message
log = logging.getLogger("drkit.sources")


@dataclass(frozen=True)
class Command:
    """A tool to run: its argv, extra environment (passwords go here, never in argv)."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    package: str = ""  # the Debian package that provides the tool, for the hint

    @property
    def tool(self) -> str:
        return os.path.basename(self.argv[0])


class _StderrTail(threading.Thread):
    """Drains a pipe, keeping its last STDERR_TAIL bytes."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__(daemon=True, name="drkit-stderr")
        self._pipe = pipe
        self._tail = b""

    def run(self) -> None:
        while chunk := self._pipe.read(4096):
            self._tail = (self._tail + chunk)[-STDERR_TAIL:]

    def text(self) -> str:
        self.join(timeout=5)
        return self._tail.decode("utf-8", "replace").strip()


def _spawn(cmd: Command, *, stdin: int | None, stdout: int | None) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            cmd.argv,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env={**os.environ, **cmd.env},
            start_new_session=True,  # a Ctrl-C reaches drkit, which then stops the tool
        )
    except FileNotFoundError:
        hint = f"install {cmd.package}" if cmd.package else None
        raise SourceToolMissing(
            f"{cmd.argv[0]} is not installed or not on PATH", hint=hint
        ) from None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def describe_exit(tool: str, returncode: int, stderr: str) -> str:
    """``pg_dump failed (exit code 1): <its stderr>`` or ``... was killed by SIGKILL``."""
    if returncode < 0:
        how = f"{tool} was killed by {signal.Signals(-returncode).name}"
    else:
        how = f"{tool} failed (exit code {returncode})"
    return f"{how}: {stderr}" if stderr else how


def stream_stdout(cmd: Command) -> Iterator[bytes]:
    """Yield the tool's standard output in blocks; raise DumpFailed if it ends badly.

    Closing the iterator early (the consumer failed) kills the tool.
    """
    proc = _spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    tail = _StderrTail(proc.stderr)
    tail.start()
    try:
        fd = proc.stdout.fileno()
        while block := os.read(fd, BLOCK):
            yield block
        returncode = proc.wait()
    finally:
        _stop(proc)
        proc.stdout.close()
    stderr = tail.text()
    if returncode != 0:
        raise DumpFailed(describe_exit(cmd.tool, returncode, stderr))
    if stderr:
        log.info("%s: %s", cmd.tool, stderr)


def feed_stdin(cmd: Command, blocks: Iterable[bytes]) -> str:
    """Write ``blocks`` to the tool's standard input; return its stderr on success.

    Raises RestoreFailed when the tool exits non-zero (also when it stopped
    reading early); an exception from ``blocks`` kills the tool and propagates.
    """
    proc = _spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stderr is not None
    tail = _StderrTail(proc.stderr)
    tail.start()
    try:
        _write_all(proc.stdin, blocks)
        returncode = proc.wait()
    finally:
        _stop(proc)
    stderr = tail.text()
    if returncode != 0:
        raise RestoreFailed(describe_exit(cmd.tool, returncode, stderr))
    return stderr


def _write_all(pipe: IO[bytes], blocks: Iterable[bytes]) -> None:
    try:
        for block in blocks:
            pipe.write(block)
        pipe.close()
    except BrokenPipeError:
        pass  # the tool stopped reading: its exit code and stderr say why
    finally:
        if not pipe.closed:
            try:
                pipe.close()
            except BrokenPipeError:
                pass
