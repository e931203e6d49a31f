"""Fault reports against a real Open311 server: delivered once with what GeoReport v2 asks, the owner's request id
recorded; retried after a 500 and never made twice; a refusal shown to admins; the owner's status polled onto the
timeline and the handler told when it closes."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from kia.cases.models import MilestoneKind, TimelineEntry
from kia.errors import Conflict, ValidationFailed
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind
from kia.property.models import FaultReportStatus
from kia.property.services import poll_fault_reports
from notifications import admin
from notifications.dispatcher import dispatch
from tests.property.conftest import API_KEY, FAULT, NOW, PLACE, file_building_case, send


def timeline(db, case) -> list[TimelineEntry]:
    db.expire_all()
    return list(db.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id).order_by(TimelineEntry.id)))


def outbox_row(db, report) -> Notification:
    db.expire_all()
    return db.scalar(select(Notification).where(Notification.fault_report_id == report.id))


def test_delivered_by_open311_with_the_request_id_recorded(db, session_factory, settings, make, open311, sisab,
                                                           handler):
    case = file_building_case(db, make)           # S1 is under GRU, which SISAB owns
    report = send(db, handler, case)
    assert report.status == FaultReportStatus.QUEUED and open311.posts == []   # queued, not sent in the request

    stats = dispatch(session_factory, settings, NOW)   # with the handler's mail of the new case

    assert (stats.sent, stats.failed) == (2, 0)
    [post] = open311.posts
    form = post["form"]
    assert post["content_type"] == "application/x-www-form-urlencoded"
    assert form["service_code"] == "brand"                      # the fire type's code in the owner's mapping
    assert form["api_key"] == API_KEY
    assert form["address_string"] == f"Skola Ett, {PLACE}"
    assert FAULT in form["description"] and case.number in form["description"]
    assert (form["attribute[place]"], form["attribute[urgency]"]) == (PLACE, "urgent")
    assert post["idempotency_key"] == f"kia-fault-report-{report.id}"
    db.refresh(report)
    assert (report.status, report.service_request_id, report.sent_at) == (FaultReportStatus.SENT, "SR-1001", NOW)
    kinds = [e.kind for e in timeline(db, case)]
    assert "fault_report_queued" in kinds and "fault_report_sent" in kinds
    assert case.milestone(MilestoneKind.PROPERTY_OWNER_NOTIFIED).reference == "SR-1001"
    assert outbox_row(db, report).status == DeliveryStatus.SENT


def test_a_500_is_retried_with_backoff_and_sent_once(db, session_factory, settings, make, open311, sisab, handler):
    case = file_building_case(db, make, "property_damage")
    report = send(db, handler, case)
    open311.fail_next = 1

    first = dispatch(session_factory, settings, NOW)
    too_soon = dispatch(session_factory, settings, NOW + timedelta(seconds=30))
    later = dispatch(session_factory, settings, NOW + timedelta(minutes=2))

    assert (first.retried, too_soon.sent + too_soon.retried, later.sent) == (1, 0, 1)
    assert len(open311.posts) == 2 and list(open311.requests) == ["SR-1001"]
    assert open311.posts[1]["form"]["service_code"] == "felanmalan"     # no mapping for the type: the default
    row = outbox_row(db, report)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)
    db.refresh(report)
    assert report.service_request_id == "SR-1001"


def test_never_delivered_twice(db, session_factory, settings, make, open311, sisab, handler, city_admin):
    case = file_building_case(db, make)
    report = send(db, handler, case)
    # The owner made the request but its answer was lost: the retry carries the same key, and gets the same request.
    open311.fail_next, open311.lose_answer = 1, True
    dispatch(session_factory, settings, NOW)
    dispatch(session_factory, settings, NOW + timedelta(minutes=2))
    dispatch(session_factory, settings, NOW + timedelta(hours=5))

    assert len(open311.posts) == 2 and list(open311.requests) == ["SR-1001"]
    assert {p["idempotency_key"] for p in open311.posts} == {report.idempotency_key}
    # A delivered report cannot be sent again by an admin either.
    with pytest.raises(Conflict):
        admin.resend(db, city_admin, outbox_row(db, report).id, NOW)
    # And should its row be put back in the queue, the recorded request id stops it going out again.
    row = outbox_row(db, report)
    row.status = DeliveryStatus.PENDING
    db.commit()
    dispatch(session_factory, settings, NOW + timedelta(hours=6))
    assert len(open311.posts) == 2


def test_a_refusal_fails_at_once_and_is_listed_for_admins(db, session_factory, settings, make, open311, sisab,
                                                          handler, city_admin):
    case = file_building_case(db, make)
    report = send(db, handler, case)
    open311.refuse_next = 1

    stats = dispatch(session_factory, settings, NOW)

    assert stats.failed == 1
    db.refresh(report)
    assert report.status == FaultReportStatus.FAILED
    assert "fault_report_failed" in [e.kind for e in timeline(db, case)]
    failed, _ = admin.failed_deliveries(db, city_admin)
    assert [(r.channel, r.fault_report_id) for r in failed] == [(Channel.PROPERTY_OWNER, report.id)]
    assert "HTTP 400" in failed[0].last_error and API_KEY not in failed[0].last_error

    admin.resend(db, city_admin, failed[0].id, NOW)    # the admin fixed the mapping with the owner, say
    assert dispatch(session_factory, settings, NOW).sent == 1
    db.refresh(report)
    assert (report.status, report.service_request_id) == (FaultReportStatus.SENT, "SR-1001")


def test_the_owners_status_is_polled_onto_the_timeline_and_the_handler_told(db, session_factory, settings, make,
                                                                            open311, sisab, handler):
    case = file_building_case(db, make)
    report = send(db, handler, case)
    dispatch(session_factory, settings, NOW)

    opened = poll_fault_reports(session_factory, NOW + timedelta(minutes=10))
    unchanged = poll_fault_reports(session_factory, NOW + timedelta(minutes=20))
    open311.set_status("SR-1001", "closed", "Dörren lagad, nytt dörrstängare monterat.")
    closed = poll_fault_reports(session_factory, NOW + timedelta(hours=3))
    after = poll_fault_reports(session_factory, NOW + timedelta(hours=4))

    assert (opened.changed, unchanged.changed, closed.closed, after.polled) == (1, 0, 1, 0)
    statuses = [e for e in timeline(db, case) if e.kind == "fault_report_status"]
    assert [e.new["status"] for e in statuses] == ["open", "closed"]
    assert statuses[-1].new["status_notes"] == "Dörren lagad, nytt dörrstängare monterat."
    assert statuses[-1].actor_id is None
    db.refresh(report)
    assert (report.status, report.closed_at) == (FaultReportStatus.CLOSED, NOW + timedelta(hours=3))
    told = db.scalars(select(Notification).where(Notification.kind == NotificationKind.FAULT_REPORT_CLOSED)).all()
    assert [n.user_id for n in told] == [handler.id]           # the assignee, who also sent it: told once


def test_a_token_is_turned_into_the_request_id_when_polled(db, session_factory, settings, make, open311, sisab,
                                                           handler):
    open311.tokens = True
    case = file_building_case(db, make)
    report = send(db, handler, case)
    dispatch(session_factory, settings, NOW)
    db.refresh(report)
    assert (report.token, report.service_request_id) == ("T-SR-1001", None)

    poll_fault_reports(session_factory, NOW + timedelta(minutes=10))

    db.refresh(report)
    assert (report.service_request_id, report.owner_status) == ("SR-1001", "open")


def test_an_unreachable_owner_is_polled_again_later(db, session_factory, settings, make, open311, sisab, handler):
    case = file_building_case(db, make)
    send(db, handler, case)
    dispatch(session_factory, settings, NOW)
    open311.requests.clear()                                      # the owner's server answers 404 for it now
    assert poll_fault_reports(session_factory, NOW + timedelta(minutes=10)).failed == 1


def test_only_building_types_with_a_known_owner_offer_a_fault_report(db, make, open311, sisab, handler):
    threat = file_building_case(db, make, "near_miss")
    with pytest.raises(Conflict):
        send(db, handler, threat)
    g1_case = file_building_case(db, make, "fire", unit="G1")     # G1 is not under GRU: no owner known
    with pytest.raises(Conflict):
        send(db, make.user(("handler", "G1")), g1_case)
    fire = file_building_case(db, make)
    with pytest.raises(ValidationFailed) as error:
        send(db, handler, fire, place=" ", description="", urgency="whenever")
    assert set(error.value.errors) == {"place", "description", "urgency"}


def test_the_api_key_is_in_no_log_line_nor_error(db, session_factory, settings, make, open311, sisab, handler,
                                                 caplog):
    caplog.set_level("DEBUG")
    case = file_building_case(db, make)
    report = send(db, handler, case)
    open311.fail_next = 2
    for minutes in (0, 2, 10):
        dispatch(session_factory, settings, NOW + timedelta(minutes=minutes))
    poll_fault_reports(session_factory, NOW + timedelta(minutes=20))
    assert len(open311.posts) == 3
    assert all(API_KEY not in record.getMessage() for record in caplog.records)
    assert API_KEY not in outbox_row(db, report).last_error
    assert all(API_KEY not in str(e.new) + e.note for e in timeline(db, case))
