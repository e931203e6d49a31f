"""Log set-up of every KIA process (`kia run`, `kia serve`, `kia scheduler`, gunicorn's kia.wsgi:app): plain text
for a console or JSON lines for a log collector (KIA_LOG_FORMAT), with APScheduler's per-run chatter kept out.

What KIA logs never holds personal data, follow-up codes, passwords or tokens: messages name rows by id, and
tests/test_logs.py greps the log of the whole test run for them.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO

from gunicorn.glogging import Logger as _GunicornLogger

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# "Running job …" and "… executed successfully" twice every 5 s; a job's failure is logged by kia.scheduler.
QUIET = ("apscheduler",)
GUNICORN = ("gunicorn.error", "gunicorn.access")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, and exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # A newline inside a message stays inside its line: json.dumps escapes it.
        return json.dumps(entry, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def _is_ours(handler: logging.Handler) -> bool:
    return getattr(handler, "_kia", False)


def configure_logging(log_format: str, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send every log record of the process to `stream` (stderr) in `log_format` ("text" or "json").
    Calling it again replaces what an earlier call installed, never adds a second handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if _is_ours(h)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler._kia = True
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # In a gunicorn worker (kia.wsgi) its loggers are already set up, with handlers of their own.
    _reformat_gunicorn(log_format)


def _reformat_gunicorn(log_format: str) -> None:
    for name in GUNICORN:
        for handler in logging.getLogger(name).handlers:
            if getattr(handler, "_gunicorn", False):
                handler.setFormatter(formatter(log_format))


class GunicornLogger(_GunicornLogger):
    """gunicorn's own lines (start, workers, access log) in KIA's format: `--logger-class kia.logs.GunicornLogger`.
    Reads KIA_LOG_FORMAT itself, since gunicorn sets up its logging before it loads the app."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from kia.config import log_format_from_env

        _reformat_gunicorn(log_format_from_env())
