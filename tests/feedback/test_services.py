"""Reporter feedback at the service level: codes, what a reporter sees, messages, the public rate limits."""
import hashlib
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kia.cases.models import AccessLogEntry, Case, CaseState, TimelineEntry
from kia.errors import Conflict, NotFound, ValidationFailed
from kia.feedback.limits import ClientGuard, RateLimited, client_of
from kia.feedback.models import FollowUpCode, ReporterMessage
from kia.feedback.services import (
    code_digest, file_anonymous_report, followup, handler_thread, my_report, my_reports, new_code,
    report_status, write_as_reporter, write_to_reporter,
)
from kia.incidents.models import IncidentType
from kia.orgs.models import User
from kia.outbox.models import Channel, Notification, NotificationKind
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.ratelimit import RateLimitWindow, hit
from tests.conftest import TZ
from tests.feedback.support import database_text
from tests.incidents.test_filing import threat

NOW = datetime(2026, 3, 12, 12, 0, 20, tzinfo=timezone.utc)


def risk(**overrides) -> IncidentInput:
    values = dict(type="risk_observation", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30),
                  description="Räcket i trapphus B sitter löst.", fields={"risk": "Någon kan falla."})
    values.update(overrides)
    return IncidentInput(**values)


@pytest.fixture
def guard(db, settings):
    return ClientGuard(db, settings, "198.51.100.23", now=NOW)


@pytest.fixture
def handler(tree, make):
    return make.actor(("handler", "S1"))


@pytest.fixture
def filed(db, tree, handler, guard):
    return file_anonymous_report(db, risk(), TZ, guard, now=NOW)


def test_codes_are_160_bits_in_eight_groups_and_read_the_same_however_typed():
    code = new_code()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}", code)
    assert len({new_code() for _ in range(100)}) == 100
    typed = " ".join(code.replace("-", "").lower()[i:i + 8] for i in range(0, 32, 8))
    assert code_digest(typed) == code_digest(code) == hashlib.sha256(code.replace("-", "").encode()).hexdigest()


def test_anonymous_report_keeps_only_the_hash_of_its_code(db, filed):
    stored = db.scalar(select(FollowUpCode))
    assert stored.code_hash == code_digest(filed.follow_up_code)
    text = database_text(db)
    assert filed.follow_up_code not in text and filed.follow_up_code.replace("-", "") not in text
    incident = db.get(Case, db.scalar(select(Case.id))).incident
    assert (incident.number, incident.reporter_id, incident.anonymous) == (filed.number, None, True)
    assert [c.state for c in filed.cases] == [CaseState.RECEIVED]


def test_types_without_anonymous_reports_are_refused_and_nothing_is_stored(db, tree, guard):
    with pytest.raises(ValidationFailed) as excinfo:
        file_anonymous_report(db, threat(), TZ, guard, now=NOW)
    assert list(excinfo.value.errors) == ["type"]
    assert db.scalar(select(FollowUpCode)) is None


def test_followup_shows_status_and_marks_only_the_day_of_use(db, filed, guard):
    seen = followup(db, filed.follow_up_code.lower(), guard, now=NOW)
    assert seen.report.number == filed.number and seen.messages == []
    assert db.scalar(select(FollowUpCode.last_used_at)) == datetime(2026, 3, 12, tzinfo=timezone.utc)


def test_unknown_codes_are_not_found_and_each_miss_counts(db, filed, guard, settings):
    for attempt in range(settings.followup_failures_per_hour):
        with pytest.raises(NotFound):
            followup(db, new_code(), guard, now=NOW)
    with pytest.raises(RateLimited) as excinfo:
        followup(db, filed.follow_up_code, guard, now=NOW)   # even the right code, once the misses are spent
    assert excinfo.value.retry_after == 3600 - 20
    other_client = ClientGuard(db, settings, "198.51.100.24", now=NOW)
    assert followup(db, filed.follow_up_code, other_client, now=NOW).report.number == filed.number


def test_messages_both_ways_with_timeline_entries_that_do_not_hold_the_text(db, filed, guard, handler):
    incident_id = db.scalar(select(Case.incident_id))
    later = NOW + timedelta(minutes=47)
    mine = write_as_reporter(db, filed.follow_up_code, "  Räcket har lossnat helt nu.  ", guard, now=later)
    answer = write_to_reporter(db, handler, incident_id, "Tack, vaktmästaren är på väg.", now=later)
    assert (mine.body, mine.from_reporter, mine.author_id) == ("Räcket har lossnat helt nu.", True, None)
    assert mine.created_at == datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)   # the hour only
    assert (answer.from_reporter, answer.author_id, answer.created_at) == (False, handler.user_id, later)
    thread = followup(db, filed.follow_up_code, guard, now=later).messages
    assert [m.body for m in thread] == ["Räcket har lossnat helt nu.", "Tack, vaktmästaren är på väg."]
    assert handler_thread(db, handler, incident_id).anonymous_followup
    entries = db.scalars(select(TimelineEntry).where(TimelineEntry.kind.in_(
        ["reporter_message", "message_to_reporter"])).order_by(TimelineEntry.id)).all()
    assert [(e.kind, e.actor_id, e.note, e.new) for e in entries] == [
        ("reporter_message", None, "", None), ("message_to_reporter", handler.user_id, "", None)]


def test_the_handler_is_told_of_a_reporter_message_without_its_text(db, filed, guard, handler):
    write_as_reporter(db, filed.follow_up_code, "Räcket har lossnat helt nu.", guard, now=NOW)
    write_to_reporter(db, handler, db.scalar(select(Case.incident_id)), "Tack!", now=NOW)
    # Filing told the handler of the new case too; this is about what the message itself queued.
    told = db.scalars(select(Notification).where(Notification.kind != NotificationKind.NEW_CASE)).all()
    assert [(n.kind, n.user_id, n.channel) for n in told] == [
        (NotificationKind.ANONYMOUS_MESSAGE, handler.user_id, Channel.EMAIL)]
    assert all(n.payload["case_number"] == filed.cases[0].number and "Räcket" not in repr(n.payload) for n in told)


def test_reading_the_thread_of_a_sensitive_case_is_logged(db, tree, handler, guard):
    filed = file_anonymous_report(db, risk(type="victimisation", fields={"classification": "harassment"},
                                           persons=[PersonInput(role="affected", category="pupil", gender="male")]),
                                  TZ, guard, now=NOW)
    case = db.scalar(select(Case).where(Case.number == filed.cases[0].number))
    handler_thread(db, handler, case.incident_id)
    assert [(e.case_id, e.user_id, e.action) for e in db.scalars(select(AccessLogEntry))] == [
        (case.id, handler.user_id, "read_messages")]


def test_empty_and_overlong_messages_are_refused(db, filed, guard):
    for body in ("   ", "x" * 5_001):
        with pytest.raises(ValidationFailed) as excinfo:
            write_as_reporter(db, filed.follow_up_code, body, guard, now=NOW)
        assert list(excinfo.value.errors) == ["body"]
    assert db.scalar(select(ReporterMessage)) is None


def test_named_reports_have_no_thread(db, tree, make, handler):
    incident, _ = file_incident(db, make.actor(("reporter", "S1")), threat(), TZ, now=NOW)
    assert not handler_thread(db, handler, incident.id).anonymous_followup
    with pytest.raises(Conflict):
        write_to_reporter(db, handler, incident.id, "Hej", now=NOW)


def test_only_handlers_of_a_case_reach_the_thread(db, filed, make):
    incident_id = db.scalar(select(Case.incident_id))
    for roles in (("handler", "S2"), ("safety_rep", "S1"), ("reporter", "S1"), ("analyst", "STHLM")):
        with pytest.raises(NotFound):
            handler_thread(db, make.actor(roles), incident_id)


def test_reporter_sees_own_reports_only_and_not_cases_added_for_others(db, tree, make):
    reporter, colleague = make.actor(("reporter", "S1")), make.actor(("reporter", "S1"))
    mine, _ = file_incident(db, reporter, threat(), TZ, now=NOW)
    file_incident(db, colleague, threat(), TZ, now=NOW)
    file_incident(db, reporter, risk(anonymous=True), TZ, now=NOW)   # not tied to them at all
    items, cursor = my_reports(db, reporter)
    assert [r.number for r in items] == [mine.number] and cursor is None
    with pytest.raises(NotFound):
        my_report(db, colleague, mine.id)
    pupil_case = Case(number=mine.number + "-2", incident=mine, org_unit=mine.org_unit,
                      incident_type=db.scalar(select(IncidentType).where(IncidentType.code == "pupil_injury")))
    db.add(pupil_case)
    db.flush()
    assert [c.number for c in report_status(mine).cases] == [mine.number + "-1"]


def test_pages_of_own_reports(db, tree, make):
    reporter = make.actor(("reporter", "S1"))
    numbers = [file_incident(db, reporter, threat(occurred_at=datetime(2026, 3, day, 9)), TZ, now=NOW)[0].number
               for day in (1, 2, 3)]
    first, cursor = my_reports(db, reporter, limit=2)
    second, end = my_reports(db, reporter, cursor=cursor, limit=2)
    assert [r.number for r in first + second] == numbers[::-1] and end is None


def test_summary_and_closing_time_only_once_the_case_is_finished(db, filed):
    case = db.scalar(select(Case))
    case.closing_summary, case.rejection_reason = "Räcket är lagat.", "Fel typ"
    assert report_status(case.incident).cases[0].closing_summary is None
    case.state, case.closed_at = CaseState.REJECTED, NOW
    status = report_status(case.incident).cases[0]
    assert (status.state, status.closing_summary, status.closed_at) == (CaseState.REJECTED, "Räcket är lagat.", NOW)
    assert "Fel typ" not in repr(report_status(case.incident))


# ---- the limits ---------------------------------------------------------------------------------

def test_the_client_address_is_stored_only_as_a_keyed_hash(db, tree, settings, guard):
    guard.request()
    keys = db.scalars(select(RateLimitWindow.key)).all()
    assert len(keys) == 1 and "198.51.100.23" not in keys[0]
    other_secret = ClientGuard(db, replace(settings, secret_key="another"), "198.51.100.23", now=NOW)
    other_secret.request()
    assert len(set(db.scalars(select(RateLimitWindow.key)))) == 2


@pytest.mark.parametrize("address, client", [
    ("198.51.100.23", "198.51.100.23"),
    ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),          # one subscriber's /64 is one client
    ("::ffff:198.51.100.23", "198.51.100.23"),
    ("not an address", "not an address"),
])
def test_limits_apply_per_ipv4_address_or_ipv6_network(address, client):
    assert client_of(address) == client


def test_requests_beyond_the_limit_wait_until_they_are_a_minute_old(db, settings, guard):
    for _ in range(settings.public_requests_per_minute):
        guard.request()
    with pytest.raises(RateLimited) as excinfo:
        guard.request()
    assert excinfo.value.retry_after == 60
    # A new minute on the clock is no fresh allowance: the hits still count until they are a minute old.
    with pytest.raises(RateLimited):
        ClientGuard(db, settings, "198.51.100.23", now=datetime(2026, 3, 12, 12, 1, 5, tzinfo=timezone.utc)).request()
    ClientGuard(db, settings, "198.51.100.23", now=NOW + timedelta(seconds=60)).request()


def test_reports_per_hour_are_limited(db, tree, settings):
    guard = ClientGuard(db, replace(settings, public_reports_per_hour=2), "198.51.100.23", now=NOW)
    file_anonymous_report(db, risk(), TZ, guard, now=NOW)
    file_anonymous_report(db, risk(), TZ, guard, now=NOW)
    with pytest.raises(RateLimited):
        file_anonymous_report(db, risk(), TZ, guard, now=NOW)


def test_windows_of_the_public_limits_are_forgotten_after_an_hour_and_no_others(db, settings, guard):
    hit(db, "login:someone", 5, timedelta(days=1), now=NOW - timedelta(hours=3))
    guard.request()
    ClientGuard(db, settings, "198.51.100.23", now=NOW + timedelta(hours=1, minutes=1)).request()
    # Left: the login window (another prefix), and the request counted last (in a bucket of 60 s / 15).
    assert sorted(w.window_start for w in db.scalars(select(RateLimitWindow))) == [
        datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc), datetime(2026, 3, 12, 13, 1, 20, tzinfo=timezone.utc)]


def test_a_reporter_message_on_a_case_whose_handler_has_left_reaches_the_units_other_handler(db, filed, guard,
                                                                                           handler, make):
    deputy = make.actor(("handler", "S1"))
    db.get(User, handler.user_id).active = False   # the case stays theirs until someone delegates it
    db.commit()
    write_as_reporter(db, filed.follow_up_code, "Räcket har lossnat helt nu.", guard, now=NOW)
    told = db.scalars(select(Notification.user_id).where(
        Notification.kind == NotificationKind.ANONYMOUS_MESSAGE)).all()
    assert told == [deputy.user_id]
