"""Felanmälan from a case: the handler's fault report queued for the owner in the outbox, what the owner answered
(its service request id), and the owner's status polled onto the case timeline, the handler told when it closes.

Each function owns its transaction and writes the timeline in it; delivery itself is the outbox dispatcher's
(notifications/channels/property_owner.py), so an outage loses nothing and a report goes out once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kia.access import Actor
from kia.cases.lookup import open_handled_case, visible_case
from kia.cases.models import Case, Milestone, MilestoneKind
from kia.cases.timeline import record
from kia.db import utcnow
from kia.deadlines.services import sync_obligations
from kia.errors import N_, Conflict, FieldErrors, Msg
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind
from kia.outbox.services import case_payload, insert_rows, queue
from kia.property import open311
from kia.property.models import DeliveryMethod, FaultReport, FaultReportStatus, PropertyOwner, Urgency
from kia.property.owners import owner_of

log = logging.getLogger(__name__)
PLACE_LENGTH = 300
DESCRIPTION_LENGTH = 4000


@dataclass
class FaultReportInput:
    place: str            # where in the building: "Hus B, plan 2, korridoren vid sal 204"
    description: str
    urgency: str = Urgency.NORMAL.value


def may_report_fault(case: Case) -> bool:
    """Whether the case's type concerns the building (its cases offer a felanmälan)."""
    return bool(case.incident_type.concerns_building)


def fault_reports_of(session: Session, actor: Actor, case_id: int) -> list[FaultReport]:
    """The case's fault reports, for one who may read the case (404 otherwise)."""
    return reports_of_case(session, visible_case(session, actor, case_id))


def reports_of_case(session: Session, case: Case) -> list[FaultReport]:
    """The fault reports of a case already read through the access rules, oldest first."""
    return list(session.scalars(select(FaultReport).where(FaultReport.case_id == case.id).order_by(FaultReport.id)))


def owner_for_case(session: Session, case: Case) -> PropertyOwner | None:
    return owner_of(session, case.org_unit)


def send_fault_report(session: Session, actor: Actor, case_id: int, data: FaultReportInput,
                      now: datetime | None = None) -> FaultReport:
    """Queue a fault report to the owner of the case's building: 409 when the type does not concern the building or
    no owner is known for the unit, 422 with a message per field for the input."""
    now = now or utcnow()
    case = open_handled_case(session, actor, case_id)
    if not may_report_fault(case):
        raise Conflict(Msg(N_("This event type does not concern the building: there is no fault report to send.")))
    owner = owner_for_case(session, case)
    if owner is None:
        raise Conflict(Msg(N_("No property owner is known for this unit: an administrator adds one.")))
    errors = FieldErrors()
    place, description = data.place.strip(), data.description.strip()
    if not place:
        errors.add("place", N_("Say where in the building."))
    elif len(place) > PLACE_LENGTH:
        errors.add("place", N_("At most %(n)s characters."), n=PLACE_LENGTH)
    if not description:
        errors.add("description", N_("Describe the fault."))
    elif len(description) > DESCRIPTION_LENGTH:
        errors.add("description", N_("At most %(n)s characters."), n=DESCRIPTION_LENGTH)
    urgency = errors.member("urgency", Urgency, data.urgency or Urgency.NORMAL.value, N_("Unknown urgency."))
    errors.raise_if_any()
    report = FaultReport(case=case, owner=owner, property_owner_id=owner.id, method=owner.method, place=place,
                         description=description, urgency=urgency, status=FaultReportStatus.QUEUED,
                         owner_status="", status_notes="", created_by_id=actor.user_id, created_at=now)
    session.add(report)
    session.flush()
    record(session, case, actor.user_id, "fault_report_queued", field="fault_report",
           new={"id": report.id, "owner": owner.name, "place": place, "urgency": urgency.value})
    insert_rows(session, [dict(
        dedupe_key=f"fault_report:{report.id}", user_id=None, webhook_id=None, fault_report_id=report.id,
        channel=Channel.PROPERTY_OWNER, kind=NotificationKind.FAULT_REPORT, case_id=case.id, language="sv",
        payload=case_payload(case, fault_report_id=report.id, owner=owner.name), digest=False,
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now, last_error="")])
    session.commit()
    return report


def open311_fields(report: FaultReport) -> dict[str, str]:
    """The GeoReport v2 form of the report. The address is the unit's (its coordinates, once units have them);
    no names of people: the owner needs the place and the fault."""
    case = report.case
    urgency = {"low": "Låg", "normal": "Normal", "urgent": "Brådskande"}[report.urgency.value]
    description = (f"{report.description}\n\nPlats: {report.place}\nBrådska: {urgency}\n"
                   f"KIA-ärende: {case.number} ({case.incident_type.name_sv})")
    return {"service_code": report.owner.service_code_for(case.incident_type.code),
            "address_string": f"{case.org_unit.name}, {report.place}", "description": description,
            "attribute[place]": report.place, "attribute[urgency]": report.urgency.value,
            "attribute[kia_case]": case.number, "attribute[kia_reference]": report.idempotency_key}


def record_delivery(session: Session, report: FaultReport, accepted: open311.Accepted | None, tz: ZoneInfo,
                    now: datetime) -> None:
    """The owner has the report (by Open311, with its request id or token; or by e-mail): on the timeline, and the
    milestone "property owner notified" if the case lacks it. The dispatcher commits with the row's status."""
    report.status = FaultReportStatus.SENT
    report.sent_at = now
    if accepted is not None:
        report.service_request_id, report.token = accepted.service_request_id, accepted.token
    reference = report.service_request_id or report.token or ""
    case = report.case
    record(session, case, None, "fault_report_sent", field="fault_report",
           new={"id": report.id, "owner": report.owner.name, "method": report.method.value,
                "service_request_id": reference or None})
    if case.milestone(MilestoneKind.PROPERTY_OWNER_NOTIFIED) is None:
        session.add(Milestone(case=case, kind=MilestoneKind.PROPERTY_OWNER_NOTIFIED, at=now,
                              reference=reference[:200], recorded_by_id=None, recorded_at=now))
        record(session, case, None, "milestone_recorded", field=MilestoneKind.PROPERTY_OWNER_NOTIFIED.value,
               new={"at": now.isoformat(), "reference": reference[:200]})
        session.flush()
        sync_obligations(session, case, tz, now)


def record_given_up(session: Session, report: FaultReport, error: str) -> None:
    """The outbox gave up: the case shows it, and admins find it among the failed deliveries."""
    report.status = FaultReportStatus.FAILED
    record(session, report.case, None, "fault_report_failed", field="fault_report",
           new={"id": report.id, "owner": report.owner.name}, note=error[:300])


def apply_owner_status(session: Session, report: FaultReport, status: open311.RequestStatus, now: datetime) -> bool:
    """What the owner says now, if it changed: on the timeline; closed, the handler (and who sent it) is told."""
    report.polled_at = now
    if (report.owner_status, report.status_notes) == (status.status, status.status_notes):
        return False
    old = {"status": report.owner_status or None, "status_notes": report.status_notes or None}
    report.owner_status, report.status_notes = status.status, status.status_notes
    case = report.case
    record(session, case, None, "fault_report_status", field="fault_report", old=old,
           new={"id": report.id, "status": status.status, "status_notes": status.status_notes or None})
    if status.status == "closed" and report.status != FaultReportStatus.CLOSED:
        report.status, report.closed_at = FaultReportStatus.CLOSED, now
        told = [uid for uid in dict.fromkeys([case.assignee_id, report.created_by_id]) if uid is not None]
        queue(session, NotificationKind.FAULT_REPORT_CLOSED, f"fault_report_closed:{report.id}", case, told,
              case_payload(case, fault_report_id=report.id, owner=report.owner.name), now)
    return True


@dataclass
class PollStats:
    polled: int = 0
    changed: int = 0
    closed: int = 0
    failed: int = 0


def poll_fault_reports(session_factory: sessionmaker[Session], now: datetime | None = None,
                       batch: int = 200) -> PollStats:
    """Ask each owner about the Open311 reports it accepted and has not closed (least recently asked first);
    each report's answer is committed on its own, and one owner being down stops no other's."""
    now = now or utcnow()
    stats = PollStats()
    with session_factory() as session:
        ids = list(session.scalars(
            select(FaultReport.id).where(FaultReport.status == FaultReportStatus.SENT,
                                         FaultReport.method == DeliveryMethod.OPEN311)
            .order_by(FaultReport.polled_at.is_not(None), FaultReport.polled_at, FaultReport.id).limit(batch)))
    for report_id in ids:
        with session_factory() as session:
            # Locked, so two schedulers never write one answer twice (skipped when another holds it).
            report = session.scalar(select(FaultReport).where(FaultReport.id == report_id)
                                    .with_for_update(of=FaultReport, skip_locked=True))
            if report is None or report.status != FaultReportStatus.SENT:
                continue
            try:
                if report.service_request_id is None and report.token:
                    report.service_request_id = open311.request_id_for_token(report.owner, report.token)
                if report.service_request_id is None:
                    report.polled_at = now
                    session.commit()
                    continue
                status = open311.request_status(report.owner, report.service_request_id)
            except open311.Open311Failed as error:
                stats.failed += 1
                log.info("fault report %s: status not read from its owner: %s", report.id, error)
                session.rollback()
                continue
            stats.polled += 1
            if apply_owner_status(session, report, status, now):
                stats.changed += 1
                stats.closed += report.status == FaultReportStatus.CLOSED
            session.commit()
    return stats
