"""The scheduler's jobs: they reach the dispatcher, the digest and the sweep, say one line when they did something
(with counts, no personal data), nothing when they did not, and a failure with its cause."""
import logging
from dataclasses import replace
from datetime import timedelta

from kia.outbox.models import NotificationKind
from kia.scheduler import Jobs, logged
from notifications.digest import DigestStats
from notifications.dispatcher import DispatchStats
from tests.logcheck import leaks
from tests.notifications.conftest import NOW, PUPIL_NUMBER, file_victimisation, notify


def _scheduler_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kia.scheduler"]


def test_scheduler_jobs_call_the_dispatcher_and_the_digest(engine, settings):
    jobs = Jobs(settings)
    try:
        assert isinstance(jobs.dispatch_notifications(NOW), DispatchStats)
        assert isinstance(jobs.send_digests(NOW), DigestStats)
    finally:
        jobs.session_factory.kw["bind"].dispose()


def _on_the_test_connection(settings, session_factory) -> Jobs:
    # One sweep: side by side they would share the test's one connection (PostgreSQL; SQLite sweeps with one anyway).
    return Jobs(replace(settings, sweep_workers=1), session_factory)


def test_jobs_that_found_nothing_to_do_log_nothing(caplog, settings, session_factory, tree):
    caplog.set_level(logging.DEBUG)
    jobs = _on_the_test_connection(settings, session_factory)
    jobs.sweep_deadlines(NOW)
    jobs.dispatch_notifications(NOW)
    jobs.send_digests(NOW)
    jobs.housekeeping(NOW)
    assert _scheduler_records(caplog) == []


def test_a_dispatch_that_sent_mail_says_so_in_one_line_with_counts(caplog, settings, session_factory, db, make,
                                                                  reporter):
    handler = make.user(("handler", "S1"))
    case = file_victimisation(db, reporter)
    notify(db, case, NotificationKind.NEW_CASE, [handler])
    caplog.set_level(logging.DEBUG)
    stats = _on_the_test_connection(replace(settings, smtp_host=""), session_factory).dispatch_notifications(NOW)
    assert stats.sent == 1
    [line] = _scheduler_records(caplog)
    assert line.levelno == logging.INFO
    assert line.getMessage() == "notifications: 1 sent, 0 to retry, 0 failed for good"


def test_a_sweep_that_took_steps_counts_them_without_naming_anyone(caplog, settings, session_factory, db, make,
                                                                   tree):
    make.user(("handler", "S1"))
    file_victimisation(db, make.actor(("reporter", "S1")), org_unit="S1")
    caplog.set_level(logging.DEBUG)
    result = _on_the_test_connection(settings, session_factory).sweep_deadlines(NOW + timedelta(days=30))
    assert result.obligations >= 1
    [line] = _scheduler_records(caplog)
    message = line.getMessage()
    assert message.startswith(f"deadline sweep: {result.obligations} obligations due, steps taken: ")
    assert message.endswith(f"; {result.notifications} notifications queued")
    assert leaks(caplog.text, {PUPIL_NUMBER: "the pupil's personal number"}) == []


def test_a_failing_job_is_logged_with_its_cause_and_the_scheduler_carries_on(caplog, tmp_path, settings):
    # A real failure: the database has no tables.
    jobs = Jobs(replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.db'}", sweep_workers=1))
    caplog.set_level(logging.DEBUG)
    try:
        logged(jobs.sweep_deadlines, "deadline sweep")()   # returns: APScheduler runs it again next minute
    finally:
        jobs.session_factory.kw["bind"].dispose()
    [line] = _scheduler_records(caplog)
    assert (line.levelno, line.getMessage()) == (logging.ERROR, "deadline sweep failed")
    assert "no such table" in caplog.text and line.exc_info is not None
