"""Reporter feedback: named reporters read the public parts of their reports; anonymous reporters file,
follow up and write to the handlers with a code that is shown once and stored only as its SHA-256."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kia.access import Actor, may_handle_case
from kia.cases.models import Case, CaseState
from kia.cases.read_log import case_read
from kia.cases.timeline import record
from kia.db import utcnow
from kia.errors import N_, Conflict, FieldErrors, Msg, NotFound
from kia.feedback.limits import ClientGuard
from kia.feedback.models import FollowUpCode, ReporterMessage
from kia.incidents.models import Incident, IncidentType
from kia.incidents.services import (
    IncidentInput, decode_cursor, encode_cursor, store_report, validate_report,
)
from kia.orgs.models import OrgUnit, Role
from kia.outbox.models import NotificationKind
from kia.outbox.services import case_payload, queue
from kia.routing.services import nearest_holders

CODE_BYTES = 20   # 160 bits: 32 base32 characters, shown as 8 groups of 4
MAX_MESSAGE_LENGTH = 5_000
FINISHED = (CaseState.CLOSED, CaseState.REJECTED)


# ---- what a reporter may see --------------------------------------------------------------------

@dataclass(frozen=True)
class CaseStatus:
    """A case as its reporter sees it: never the investigation, decision, comments, actions or people."""

    number: str
    type: str
    state: CaseState
    closed_at: datetime | None
    # Written for the reporter (kia.cases.models says so); the rejection reason and the decision stay internal.
    closing_summary: str | None


@dataclass(frozen=True)
class ReportStatus:
    id: int
    number: str
    type: str
    type_name: dict[str, str]
    org_unit: str
    org_unit_name: str
    occurred_at: datetime
    reported_at: datetime
    cases: list[CaseStatus]


def _case_status(case: Case) -> CaseStatus:
    finished = case.state in FINISHED
    return CaseStatus(number=case.number, type=case.incident_type.code, state=case.state,
                      closed_at=case.closed_at if finished else None,
                      closing_summary=(case.closing_summary or None) if finished else None)


def report_status(incident: Incident) -> ReportStatus:
    """The public parts of a report. Only the cases of the reported type: a case a handler added later
    (say a kränkning case from a fight) is a handling decision about someone else, not the reporter's."""
    kind = incident.incident_type
    return ReportStatus(
        id=incident.id, number=incident.number, type=kind.code, type_name={"sv": kind.name_sv, "en": kind.name_en},
        org_unit=incident.org_unit.code, org_unit_name=incident.org_unit.name,
        occurred_at=incident.occurred_at, reported_at=incident.reported_at,
        cases=[_case_status(c) for c in incident.cases if c.incident_type_id == incident.incident_type_id],
    )


# ---- named reporters ----------------------------------------------------------------------------

def my_reports(session: Session, actor: Actor, cursor: str | None = None,
               limit: int = 50) -> tuple[list[ReportStatus], str | None]:
    """The reports `actor` filed under their name, newest first, a page at a time (cursor as in /incidents)."""
    conditions = [Incident.reporter_id == actor.user_id]
    if cursor:
        at, last_id = decode_cursor(cursor)
        conditions.append(or_(Incident.occurred_at < at, and_(Incident.occurred_at == at, Incident.id < last_id)))
    rows = session.scalars(select(Incident).where(*conditions)
                           .order_by(Incident.occurred_at.desc(), Incident.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return [report_status(i) for i in page], encode_cursor(page[-1]) if len(rows) > limit else None


def my_report(session: Session, actor: Actor, incident_id: int) -> ReportStatus:
    incident = session.scalar(select(Incident).where(Incident.id == incident_id,
                                                     Incident.reporter_id == actor.user_id))
    if incident is None:
        raise NotFound(N_("No such incident."))
    return report_status(incident)


# ---- anonymous reporters ------------------------------------------------------------------------

def anonymous_types(session: Session) -> list[IncidentType]:
    return list(session.scalars(select(IncidentType).where(
        IncidentType.active.is_(True), IncidentType.allows_anonymous.is_(True),
    ).order_by(IncidentType.category, IncidentType.code)))


def reportable_units(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.path)))


def new_code() -> str:
    """Base32 has no 0/1/8/9 to mistake for O/I/B, and reads aloud; groups of 4 are easy to copy."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def code_digest(code: str) -> str:
    """Typed with spaces, without dashes or in lower case, it is the same code."""
    return hashlib.sha256(re.sub(r"[\s-]", "", code).upper().encode()).hexdigest()


@dataclass(frozen=True)
class AnonymousReceipt:
    number: str
    follow_up_code: str   # shown this once; only its hash is kept
    cases: list[CaseStatus]


def _file_with_code(session: Session, actor: Actor | None, data: IncidentInput, tz: ZoneInfo,
                    now: datetime) -> AnonymousReceipt:
    report = validate_report(session, actor, data, tz, now)
    code = new_code()
    stored = store_report(session, report, data, tz, now, reporter_id=None,
                          also=lambda incident: [FollowUpCode(incident=incident, code_hash=code_digest(code))])
    incident = stored.finish(session, now)
    session.commit()
    return AnonymousReceipt(number=incident.number, follow_up_code=code, cases=report_status(incident).cases)


def file_anonymous_report(session: Session, data: IncidentInput, tz: ZoneInfo, guard: ClientGuard,
                          now: datetime | None = None) -> AnonymousReceipt:
    """File a report without an account (types that allow it) with its follow-up code, in one transaction.
    Nothing about the sender is stored: no user, no idempotency key, no address."""
    # Counted and committed before the filing: held open through it, the client's counter row would queue every
    # other anonymous filing from the same address (a whole school behind one NAT) behind this one.
    guard.count(guard.reports)
    return _file_with_code(session, None, data, tz, now or utcnow())


def file_anonymously_as_staff(session: Session, actor: Actor, data: IncidentInput, tz: ZoneInfo,
                              now: datetime | None = None) -> AnonymousReceipt:
    """A signed-in staff member reports anonymously (types that allow it, units where they hold a role):
    the report does not name them, and the follow-up code is how they hear back."""
    return _file_with_code(session, actor, data, tz, now or utcnow())


def _incident_for_code(session: Session, code: str, guard: ClientGuard, now: datetime) -> Incident:
    """The report a code belongs to. The code is looked up by its hash, so every unknown code takes the
    same path and answer; each miss counts towards the client's limit of wrong codes."""
    guard.refuse_if_spent(guard.followup_failures)
    found = session.scalar(select(FollowUpCode).where(FollowUpCode.code_hash == code_digest(code)))
    if found is None:
        guard.count(guard.followup_failures)
        raise NotFound(N_("No report has this follow-up code."))
    # Only the day: exact times of use could be matched against network logs to find the reporter.
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if found.last_used_at != day:
        found.last_used_at = day
    return session.get(Incident, found.incident_id)


def _thread(session: Session, incident: Incident) -> list[ReporterMessage]:
    return list(session.scalars(select(ReporterMessage).where(ReporterMessage.incident_id == incident.id)
                                .order_by(ReporterMessage.id)))


@dataclass(frozen=True)
class Followup:
    report: ReportStatus
    messages: list[ReporterMessage]


def followup(session: Session, code: str, guard: ClientGuard, now: datetime | None = None) -> Followup:
    incident = _incident_for_code(session, code, guard, now or utcnow())
    session.commit()
    return Followup(report_status(incident), _thread(session, incident))


def _message_body(body: str) -> str:
    errors = FieldErrors()
    body = body.strip()
    if not body:
        errors.add("body", N_("Write a message."))
    elif len(body) > MAX_MESSAGE_LENGTH:
        errors.add("body", N_("At most %(n)s characters."), n=MAX_MESSAGE_LENGTH)
    errors.raise_if_any()
    return body


def _add_message(session: Session, incident: Incident, author_id: int | None, body: str,
                 at: datetime) -> ReporterMessage:
    """The message, and an entry on each case's timeline without its text: the timeline is read more widely
    (safety representatives, watchers) than the thread, and a reporter's own words can give them away."""
    message = ReporterMessage(incident_id=incident.id, from_reporter=author_id is None, author_id=author_id,
                              body=body, created_at=at)
    session.add(message)
    kind = "reporter_message" if author_id is None else "message_to_reporter"
    for case in incident.cases:
        record(session, case, author_id, kind).at = at
    if author_id is None:
        _tell_handlers(session, incident, message, at)
    session.commit()
    return message


def _tell_handlers(session: Session, incident: Incident, message: ReporterMessage, at: datetime) -> None:
    """Each case's handler (the assignee while still an active user, else the nearest handlers) hears of it at
    once; the notification names the case only, never the text."""
    session.flush()
    for case in incident.cases:
        assigned = case.assignee is not None and case.assignee.active
        handlers = [case.assignee_id] if assigned else nearest_holders(session, case.org_unit, Role.HANDLER)
        queue(session, NotificationKind.ANONYMOUS_MESSAGE, f"anonymous_message:{message.id}:c{case.id}", case,
              handlers, case_payload(case), at)


def write_as_reporter(session: Session, code: str, body: str, guard: ClientGuard,
                      now: datetime | None = None) -> ReporterMessage:
    """The anonymous reporter writes to the handlers. Stamped with the hour only, for the reason above."""
    now = now or utcnow()
    incident = _incident_for_code(session, code, guard, now)
    return _add_message(session, incident, None, _message_body(body),
                        now.replace(minute=0, second=0, microsecond=0))


# ---- the handlers' side -------------------------------------------------------------------------

def _handled_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or not any(may_handle_case(actor, case) for case in incident.cases):
        raise NotFound(N_("No such incident."))
    return incident


def _has_code(session: Session, incident: Incident) -> bool:
    return session.scalar(select(FollowUpCode.id).where(FollowUpCode.incident_id == incident.id)) is not None


@dataclass(frozen=True)
class HandlerThread:
    anonymous_followup: bool   # the reporter holds a follow-up code, so a message reaches them
    messages: list[ReporterMessage]


def handler_thread(session: Session, actor: Actor, incident_id: int) -> HandlerThread:
    """The messages with an anonymous reporter, for whoever may handle a case of the incident. Like any
    read of a case, reading its thread is written to the read log (a row for each of the incident's cases)."""
    incident = _handled_incident(session, actor, incident_id)
    session.add_all([case_read(actor, c, "read_messages") for c in incident.cases])
    session.commit()
    return HandlerThread(_has_code(session, incident), _thread(session, incident))


def write_to_reporter(session: Session, actor: Actor, incident_id: int, body: str,
                      now: datetime | None = None) -> ReporterMessage:
    incident = _handled_incident(session, actor, incident_id)
    if not _has_code(session, incident):
        raise Conflict(Msg(N_("Only an anonymous report with a follow-up code has a message thread.")))
    return _add_message(session, incident, actor.user_id, _message_body(body), now or utcnow())
