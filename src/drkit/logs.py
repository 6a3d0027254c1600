"""Log output for the CLI and for the long-running faces (`drkit serve`, `drkit agent`).

A command prints drkit's warnings as ``warning: ...`` lines. A daemon prints
one line per event, in one of two formats:

- ``human`` (the default): ``2026-12-02T09:15:00Z INFO drkit.scheduler.daemon:
  backup:app: starting``; under systemd (``JOURNAL_STREAM`` names stderr)
  the time is left to journald and the line starts with the syslog priority
  (``<6>``), so ``journalctl -p warning`` filters by level.
- ``json``: one JSON object per line with ``time``, ``level``, ``logger``,
  ``message``, ``run_id`` and ``job`` (null when the event has none), and
  ``exception`` when there is a traceback: what log shippers (Vector,
  Promtail, Fluent Bit) parse without a grok pattern.

Events about a job or a run name them with ``extra={"job": ..., "run_id": ...}``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO

LOGGER = "drkit"
_json_active = False  # set by setup_daemon_logging(LogFormat.JSON)


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


# syslog priorities (sd-daemon(3)): journald reads them from a "<N>" prefix
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def _time(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, keys in a fixed order."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": getattr(record, "run_id", None),
            "job": getattr(record, "job", None),
        }
        code = getattr(record, "code", None)
        if code is not None:
            doc["code"] = code
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """``TIME LEVEL logger: message``; under journald ``<N>logger: message``."""

    def __init__(self, *, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if self.journald:
            priority = _PRIORITY.get(record.levelno, 6)
            return f"<{priority}>{record.name}: {message}"
        return f"{_time(record)} {record.levelname} {record.name}: {message}"


class _WarningFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def under_journald(stream: IO[str], environ: dict[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal stream systemd connected (systemd.exec(5))."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (ValueError, OSError, AttributeError):
        return False


def _install(formatter: logging.Formatter, level: int, stream: IO[str]) -> None:
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(level)


def setup_command_logging(*, quiet: bool, debug: bool) -> None:
    """A command's logging: drkit's warnings (storage retries, locks, ...) on stderr."""
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    _install(_WarningFormatter(), level, sys.stderr)


def setup_daemon_logging(
    log_format: LogFormat,
    *,
    quiet: bool = False,
    debug: bool = False,
    stream: IO[str] | None = None,
) -> None:
    """A daemon's logging: every event from INFO (WARNING with quiet, DEBUG with debug)."""
    stream = stream or sys.stderr
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    formatter: logging.Formatter = (
        JsonFormatter()
        if log_format is LogFormat.JSON
        else HumanFormatter(journald=under_journald(stream))
    )
    _install(formatter, level, stream)
    global _json_active
    _json_active = log_format is LogFormat.JSON


def log_error_if_json(code: str, message: str, hint: str | None) -> bool:
    """Log a fatal error as a JSON line when the daemon logs JSON; False otherwise."""
    if not _json_active:
        return False
    text = f"{message} (hint: {hint})" if hint else message
    logging.getLogger(LOGGER).error(text, extra={"code": code})
    return True
