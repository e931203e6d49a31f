"""A database that cannot be reached (a real connect to a port nothing listens on: refused, as while PostgreSQL
restarts) is a 503 that says so – problem+json in the API, a page on the web – and a scheduler job that fails for it
is one warning line and runs again. The outage under load, through gunicorn, is tests/faults/test_database_outage.py."""
from __future__ import annotations

import dataclasses
import logging

import pytest

from kia.app import create_app
from kia.scheduler import Jobs, logged
from tests.notifications.conftest import free_port


@pytest.fixture
def unreachable(settings):
    """Settings whose database refuses every connection."""
    return dataclasses.replace(settings, database_url=f"postgresql+psycopg://kia@127.0.0.1:{free_port()}/kia")


@pytest.fixture
def down_client(unreachable):
    app = create_app(unreachable)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.parametrize("language, words", [(None, "databas"), ("en", "database")])
def test_the_api_answers_503_problem_json_while_the_database_is_unreachable(down_client, language, words, caplog):
    headers = {"Authorization": "Bearer kia_not-checked-without-a-database"}
    if language:
        headers["Accept-Language"] = language
    response = down_client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json" and response.headers["Retry-After"] == "5"
    assert response.json["status"] == 503 and words in response.json["detail"]
    assert "Idempotency-Key" in response.json["detail"]
    warnings = [r for r in caplog.records if r.name == "api" and "database unavailable" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING and warnings[0].exc_info is None


def test_a_signed_in_page_is_a_503_page_while_the_database_is_unreachable(down_client):
    with down_client.session_transaction() as session:
        session["_user_id"] = "1:0"   # signed in: the page must not ask the missing database who that is
        session["_fresh"] = True
    response = down_client.get("/my-reports")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page and "databas" in page and "<h1>" in page
    english = down_client.get("/my-reports", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "cannot reach its database" in english


def test_a_scheduler_job_meeting_the_outage_logs_one_line_and_runs_again(unreachable, caplog):
    jobs = Jobs(unreachable)
    with caplog.at_level(logging.INFO, logger="kia.scheduler"):
        logged(jobs.dispatch_notifications, "notification dispatch")()   # does not raise
        logged(jobs.dispatch_notifications, "notification dispatch")()   # and runs again at its next time
    lines = [r for r in caplog.records if r.name == "kia.scheduler"]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
    assert all("database unavailable" in r.getMessage() and r.exc_info is None for r in lines)


def test_any_other_failure_of_a_job_keeps_its_traceback(caplog):
    def broken():
        raise KeyError("a bug, not an outage")

    with caplog.at_level(logging.INFO, logger="kia.scheduler"):
        logged(broken, "deadline sweep")()
    [line] = [r for r in caplog.records if r.name == "kia.scheduler"]
    assert line.levelno == logging.ERROR and line.exc_info is not None


def test_a_statement_that_fails_is_not_taken_for_an_outage(tmp_path, settings):
    """SQLite's "no such table" is an OperationalError too: a bug, answered 500 with its traceback, not 503."""
    app = create_app(dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    app.config["TESTING"] = True
    response = app.test_client().get("/api/v1/incidents", headers={"Authorization": "Bearer kia_x"})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
