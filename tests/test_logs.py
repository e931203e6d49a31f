"""Logging: plain text or JSON lines (KIA_LOG_FORMAT), and APScheduler's executor kept quiet."""
from __future__ import annotations

import io
import json
import logging
import threading
from datetime import datetime, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from kia.logs import configure_logging


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_have_time_level_logger_message_and_the_exception(restore_logging):
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    log = logging.getLogger("kia.test")
    log.info("two\nlines, one record: %s", "ä")
    try:
        raise RuntimeError("the cause")
    except RuntimeError:
        log.exception("it failed")

    lines = _lines(stream)
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert (first["level"], first["logger"], first["message"]) == ("INFO", "kia.test", "two\nlines, one record: ä")
    logged_at = datetime.fromisoformat(first["time"])
    assert logged_at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - logged_at).total_seconds()) < 60
    assert (second["level"], second["message"]) == ("ERROR", "it failed")
    assert second["exception"].startswith("Traceback") and "RuntimeError: the cause" in second["exception"]


def test_text_is_one_plain_line_a_record_and_a_second_set_up_replaces_the_first(restore_logging):
    configure_logging("json", stream=io.StringIO())
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    logging.getLogger("kia.test").warning("plain %s", "words")
    lines = _lines(stream)
    assert len(lines) == 1
    assert lines[0].endswith(" WARNING kia.test: plain words")
    assert not lines[0].startswith("{")


def test_apschedulers_executor_says_nothing_of_a_job_that_ran_but_warns_of_trouble(restore_logging):
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    assert logging.getLogger("apscheduler.executors.default").getEffectiveLevel() == logging.WARNING
    ran = threading.Event()
    scheduler = BackgroundScheduler(timezone="Europe/Stockholm")
    scheduler.add_job(ran.set, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    try:
        assert ran.wait(10)
    finally:
        scheduler.shutdown(wait=True)
    assert "Running job" not in stream.getvalue() and "executed successfully" not in stream.getvalue()
    logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed")
    assert "Run time of job was missed" in stream.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_wsgi_entry_point_logs_in_the_configured_format(tmp_path, monkeypatch, restore_logging, log_format):
    import gc
    import importlib
    import sys

    monkeypatch.setenv("KIA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("KIA_DATABASE_URL", f"sqlite:///{tmp_path / 'kia.db'}")
    monkeypatch.setenv("KIA_LOG_FORMAT", log_format)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delitem(sys.modules, "kia.wsgi", raising=False)
    try:
        importlib.import_module("kia.wsgi")
    finally:
        gc.unfreeze()
        sys.modules.pop("kia.wsgi", None)
    logging.getLogger("kia.test").warning("from a worker")
    line = _lines(stream)[-1]
    if log_format == "json":
        assert json.loads(line)["message"] == "from a worker"
    else:
        assert line.endswith("WARNING kia.test: from a worker")
