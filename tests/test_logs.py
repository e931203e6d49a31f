"""Logging: plain text or JSON lines (KIA_LOG_FORMAT), APScheduler's executor kept quiet, and no personal data,
follow-up code, password or token in any line, whatever a request carried."""
from __future__ import annotations

import io
import json
import logging
import threading
from datetime import datetime, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from kia.db import make_engine
from kia.logs import JsonFormatter, configure_logging, formatter
from kia.orgs.services import create_user
from tests.factories import victimisation_body
from tests.feedback.support import risk_body
from tests.logcheck import leaks
from tests.web.test_login import csrf_token

PERSONAL_NUMBER = "20121212-1212"
RIGHT_PASSWORD, WRONG_PASSWORD = "rätt-lösenord-för-loggen", "fel-lösenord-för-loggen"


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
    # An interval job (not a one-off, which the scheduler removes while shutting down) run once at once.
    scheduler.add_job(ran.set, "interval", hours=1, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    try:
        assert ran.wait(10)
    finally:
        scheduler.shutdown(wait=True)
    assert "Running job" not in stream.getvalue() and "executed successfully" not in stream.getvalue()
    logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed")
    assert "Run time of job was missed" in stream.getvalue()


def test_the_check_finds_each_kind_of_secret():
    found = leaks("\n".join([
        "filed for 20121212-1212", "samordningsnummer 121272+1234", "code ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567",
        "token kia_" + "x" * 43, "to anna@skola.se", "password hemligt-ord-2026",
        "notification 42: attempt 2 failed, next at 2026-03-10T09:05:00+00:00: SMTP: 451",
        "case UTBF-2026-00042-1 escalated",
    ]), {"hemligt-ord-2026": "a password"})
    assert [line.partition(":")[0] for line in found] == [
        "personal number", "personal number", "follow-up code", "API token", "e-mail address", "a password"]


def _formatted_both_ways(records) -> str:
    return "\n".join(f.format(record) for record in records for f in (formatter("text"), JsonFormatter()))


def test_requests_carrying_personal_data_and_secrets_leave_none_of_it_in_the_log(caplog, client, api, db, tree):
    caplog.set_level(logging.DEBUG)
    reporter = api.as_roles(("reporter", "S1"))
    filed = reporter.file(victimisation_body())
    assert filed.status_code == 201, filed.get_json()

    anonymous = client.post("/api/v1/public/incidents", json=risk_body())
    assert anonymous.status_code == 201
    code = anonymous.get_json()["follow_up_code"]
    assert client.post("/api/v1/public/followup", json={"code": code}).status_code == 200
    assert client.post("/api/v1/public/followup", json={"code": code[:-4] + "AAAA"}).status_code == 404

    create_user(db, "logga.mig@skola.stockholm.se", "Logga Mig", RIGHT_PASSWORD, [("handler", "S1")])
    refused = client.post("/login", data={"email": "logga.mig@skola.stockholm.se", "password": WRONG_PASSWORD,
                                          "csrf_token": csrf_token(client)})
    assert refused.status_code == 401
    token = "kia_" + "Q" * 43
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    logged = caplog.text + "\n" + _formatted_both_ways(caplog.records)
    secrets = {PERSONAL_NUMBER: "the personal number", "Elev 0": "the pupil's name", code: "the follow-up code",
               code.replace("-", ""): "the code typed without dashes", RIGHT_PASSWORD: "the password",
               WRONG_PASSWORD: "the wrong password", token: "the token"}
    assert leaks(logged, secrets) == []


def test_a_failed_statement_is_logged_without_its_values(caplog, database_url, restore_logging):
    # The values of a statement may be anyone's personal number or name; its traceback is logged as it is.
    engine = make_engine(database_url)
    log = logging.getLogger("kia.test")
    caplog.set_level(logging.DEBUG)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT :who FROM no_such_table"), {"who": PERSONAL_NUMBER})
    except Exception:
        log.exception("statement failed")
    finally:
        engine.dispose()
    assert "no_such_table" in caplog.text   # the statement and its error are there…
    assert leaks(_formatted_both_ways(caplog.records), {PERSONAL_NUMBER: "the value"}) == []   # …not the value


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
