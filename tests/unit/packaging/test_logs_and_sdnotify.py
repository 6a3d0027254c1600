"""Log formats (JSON lines, human, journald priorities) and sd_notify datagrams."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.logs import (
    HumanFormatter,
    JsonFormatter,
    LogFormat,
    log_error_if_json,
    setup_command_logging,
    setup_daemon_logging,
    under_journald,
)
from drkit.sdnotify import READY, STOPPING, notify


def _record(msg: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("drkit.scheduler.daemon", level, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_time_level_logger_message_run_and_job() -> None:
    line = JsonFormatter().format(
        _record("backup:app: run 7 succeeded", job="backup:app", run_id=7)
    )
    doc = json.loads(line)
    assert list(doc) == ["time", "level", "logger", "message", "run_id", "job"]
    assert doc["level"] == "info" and doc["logger"] == "drkit.scheduler.daemon"
    assert (doc["run_id"], doc["job"]) == (7, "backup:app")
    assert doc["time"].endswith("Z") and "T" in doc["time"]
    plain = json.loads(JsonFormatter().format(_record("tick")))
    assert (plain["run_id"], plain["job"]) == (None, None)


def test_json_lines_keep_a_traceback_inside_the_object() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        record = _record("failed", logging.ERROR)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_human_lines_have_time_and_level_or_a_journald_priority() -> None:
    human = HumanFormatter(journald=False).format(_record("x: starting"))
    assert human.endswith(" INFO drkit.scheduler.daemon: x: starting")
    journal = HumanFormatter(journald=True)
    assert journal.format(_record("x", logging.WARNING)) == "<4>drkit.scheduler.daemon: x"
    assert journal.format(_record("x", logging.ERROR)).startswith("<3>")


def test_journald_is_recognised_by_the_stream_device_and_inode(tmp_path: Path) -> None:
    with open(tmp_path / "stream", "w") as stream:
        st = os.fstat(stream.fileno())
        assert under_journald(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not under_journald(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not under_journald(stream, {})
        assert not under_journald(stream, {"JOURNAL_STREAM": "garbage"})


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    setup_command_logging(quiet=False, debug=False)


def test_daemon_logging_json_is_all_json_and_errors_stay_json(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_daemon_logging(LogFormat.JSON, stream=stream)
    logging.getLogger("drkit.x").info("hello")
    logging.getLogger("drkit.x").debug("not shown at the default level")
    assert log_error_if_json("usage", "no job 'x'", "see drkit jobs")
    docs = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [d["message"] for d in docs] == ["hello", "no job 'x' (hint: see drkit jobs)"]
    assert docs[1]["code"] == "usage" and docs[1]["level"] == "error"
    setup_daemon_logging(LogFormat.HUMAN, quiet=True, stream=stream)
    assert not log_error_if_json("usage", "m", None)  # the CLI prints it as before


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def test_notify_sends_one_datagram_to_the_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    assert notify(READY, "STATUS=serving", environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving"
    assert notify(STOPPING, environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"STOPPING=1"


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"drkit-install-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert notify(READY, environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"READY=1"


def test_notify_without_systemd_or_with_a_dead_socket_sends_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert notify(READY, environ={}) is False
    logger = logging.getLogger("drkit")
    logger.propagate = True
    try:
        with caplog.at_level(logging.WARNING, logger="drkit.sdnotify"):
            assert notify(READY, environ={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False
    finally:
        logger.propagate = False
    assert "cannot notify systemd" in caplog.text
