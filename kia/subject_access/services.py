"""The registerutdrag search: the events naming the person (by personal number) in the searcher's subtree, each with
what it says of them and its cases' texts. The search is written to the read log with a keyed hash of the number."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kia.access import ANSWERS_SUBJECT_ACCESS, Actor, may_search_data_subject, subject_access_units
from kia.cases.models import AccessLogEntry, Case, CaseAction, Comment
from kia.cases.read_log import subject_hash
from kia.db import utcnow
from kia.errors import N_, FieldErrors, Forbidden, Msg
from kia.incidents import personnummer
from kia.incidents.models import Incident, IncidentPerson


@dataclass
class CaseRecord:
    number: str
    type: str
    state: str
    created_at: datetime
    closed_at: datetime | None
    texts: dict[str, str]                 # investigation, decision, closing summary: those not empty
    actions: list[str]
    comments: list[tuple[datetime, str]]


@dataclass
class Record:
    """One event naming the person: what it says of them, and the event's and its cases' texts. Other persons of
    the event are left out (their data is not the subject's)."""

    incident_number: str
    type: str
    org_unit: str
    occurred_at: datetime
    reported_at: datetime
    location: str
    description: str
    fields: dict[str, Any]
    person: dict[str, Any]               # role, category, gender, name, class, personal number
    cases: list[CaseRecord] = field(default_factory=list)


@dataclass
class SubjectAccessReport:
    personal_number: str
    made_at: datetime
    records: list[Record]


def subject_access_report(session: Session, actor: Actor, personal_number: str, secret: str,
                          today: date | None = None) -> SubjectAccessReport:
    """The registerutdrag for `personal_number` over the actor's subtree. The search is read-logged (committed)
    before anything is returned, with an HMAC of the number under `secret` (the app's secret key), never the
    number itself."""
    if not may_search_data_subject(actor):
        raise Forbidden(Msg(N_("Only administrators and data protection officers may search by personal number.")))
    errors = FieldErrors()
    number = errors.convert("personal_number", lambda v: personnummer.normalise(v, today=today), personal_number,
                            N_("Not a valid personal identity number (personnummer or samordningsnummer)."))
    errors.raise_if_any()
    persons = session.scalars(
        select(IncidentPerson).where(IncidentPerson.personal_number == number,
                                     IncidentPerson.org_unit_id.in_(subject_access_units(actor)))
        .options(selectinload(IncidentPerson.incident).selectinload(Incident.cases))
        .order_by(IncidentPerson.occurred_at, IncidentPerson.id)).all()
    records = [_record(session, person) for person in persons]
    grants = {g.unit_id for g in actor.grants if g.role in ANSWERS_SUBJECT_ACCESS}
    session.add(AccessLogEntry(
        user_id=actor.user_id, action="subject_access_search", subject_hash=subject_hash(secret, number),
        # The subtree searched, for its auditors; a search over several subtrees is reviewed from the root.
        org_unit_id=next(iter(grants)) if len(grants) == 1 else None,
        detail=f"{len(records)} found"))
    session.commit()
    return SubjectAccessReport(number, utcnow(), records)


def _record(session: Session, person: IncidentPerson) -> Record:
    incident = person.incident
    cases = [_case(session, case) for case in sorted(incident.cases, key=lambda c: c.id)]
    return Record(
        incident.number, incident.incident_type.code, incident.org_unit.code, incident.occurred_at,
        incident.reported_at, incident.location, incident.description, dict(incident.field_values),
        {"role": str(person.role), "category": str(person.category), "gender": str(person.gender),
         "name": person.name, "class_name": person.class_name, "personal_number": person.personal_number},
        cases)


def _case(session: Session, case: Case) -> CaseRecord:
    texts = {key: value for key, value in (("investigation", case.investigation), ("decision", case.decision),
                                           ("closing_summary", case.closing_summary)) if value}
    actions = list(session.scalars(select(CaseAction.what).where(CaseAction.case_id == case.id)
                                   .order_by(CaseAction.id)))
    comments = [tuple(row) for row in session.execute(
        select(Comment.created_at, Comment.body).where(Comment.case_id == case.id).order_by(Comment.id))]
    return CaseRecord(case.number, case.incident_type.code, str(case.state), case.created_at, case.closed_at,
                      texts, [a for a in actions if a], comments)
