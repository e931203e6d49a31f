"""One event, many cases: adding a case of another type to a case's incident, and manual links between
cases of different incidents. (Listing them for a case view: kia.cases.services.related_cases.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor, case_visibility, handles_type_on, may_handle_case
from kia.cases.lookup import handled_case, visible_case
from kia.cases.models import Case, CaseLink
from kia.cases.notices import notify_new_case
from kia.cases.services import get_case
from kia.cases.timeline import record
from kia.db import utcnow
from kia.errors import N_, Conflict, FieldErrors, Forbidden, Msg, NotFound
from kia.incidents.fields import validate_field_values
from kia.incidents.models import Incident, IncidentPerson, IncidentType, PersonCategory, PersonRole
from kia.incidents.services import PersonInput, active_type, open_case, person_from_input
from kia.reference import in_session
from kia.incidents.types import list_types


@dataclass
class RelatedCaseInput:
    type: str
    # Each: the index of one of the incident's persons, or a person not yet in the report.
    persons: list[int | PersonInput] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


def _chosen_persons(incident: Incident, chosen: list[int | PersonInput], errors: FieldErrors,
                    today) -> tuple[list[IncidentPerson], list[IncidentPerson]]:
    """(the persons the new case is about, those among them new to the incident)."""
    persons, new = [], []
    for index, item in enumerate(chosen):
        if isinstance(item, int):
            if not 0 <= item < len(incident.persons):
                errors.add(f"persons[{index}]", N_("The event has no person with this number."))
            else:
                persons.append(incident.persons[item])
        else:
            person = person_from_input(item, len(incident.persons) + len(new), f"persons[{index}]", errors, today)
            persons.append(person)
            new.append(person)
    return persons, new


def _next_number(incident: Incident) -> str:
    """The incident's case numbers run …-1, …-2; a new one continues the series."""
    last = max((int(c.number.rsplit("-", 1)[1]) for c in incident.cases), default=0)
    return f"{incident.number}-{last + 1}"


def add_related_case(session: Session, actor: Actor, case_id: int, data: RelatedCaseInput, tz: ZoneInfo,
                     now: datetime | None = None) -> Case:
    """From a case the actor handles, add a case of another type for the same incident (a per-pupil type:
    one affected pupil, each pupil gets their own case). Validated against the new type's fields, routed
    like a filed case, and written on both timelines."""
    now = now or utcnow()
    source = handled_case(session, actor, case_id)
    # Lock the incident: two cases added at once must not take the same number.
    incident = session.scalar(select(Incident).where(Incident.id == source.incident_id)
                              .with_for_update(of=Incident))
    errors = FieldErrors()
    new_type = active_type(session, data.type)
    if new_type is None:
        errors.add("type", N_("Unknown event type: %(code)s."), code=data.type)
    elif not handles_type_on(actor, new_type, incident.org_unit):
        raise Forbidden(Msg(N_("Only the handler of this unit can add a case of this type.")))
    persons, new_persons = _chosen_persons(incident, data.persons, errors, now.astimezone(tz).date())
    values, subject = {}, None
    if new_type is not None:
        values = validate_field_values(new_type.fields, data.fields, errors, tz)
        if new_type.case_per_affected_pupil:
            pupils = [p for p in persons if p.role == PersonRole.AFFECTED and p.category == PersonCategory.PUPIL]
            if len(pupils) != 1:
                errors.add("persons", N_("Choose the one affected pupil this case is about."))
            else:
                subject = pupils[0]
        # One case per type, or per type and pupil (a new pupil has no case yet).
        if any(c.incident_type_id == new_type.id and c.subject_person is subject for c in incident.cases):
            errors.add("type", N_("The event already has a case of this type."))
    errors.raise_if_any()

    for person in new_persons:
        person.carry(incident.incident_type_id, incident.org_unit_id, incident.occurred_at)
    incident.persons.extend(new_persons)
    case = Case(number=_next_number(incident), incident=incident, incident_type=in_session(session, new_type),
                org_unit=incident.org_unit, subject_person=subject, field_values=values)
    session.add(case)
    informed = open_case(session, case, actor.user_id, tz, now)
    record(session, case, actor.user_id, "created_from", field="related_to", new=source.number)
    record(session, source, actor.user_id, "related_case_added", field="related_cases", new=case.number)
    session.flush()   # the new case's id names it in the notifications
    notify_new_case(session, case, informed, now)
    session.commit()
    return case


def related_case_types(session: Session, actor: Actor, case: Case) -> list[IncidentType]:
    """The types of which `actor` may add a case to the case's incident: active, handled by them on its unit,
    and not there yet (a one-case-per-pupil type stays on offer: another pupil may have been affected)."""
    present = {c.incident_type_id for c in case.incident.cases}
    return [t for t in list_types(session, include_inactive=False)
            if handles_type_on(actor, t, case.org_unit) and (t.case_per_affected_pupil or t.id not in present)]


def related_case_form(session: Session, actor: Actor, case_id: int) -> tuple[Case, list[IncidentType]]:
    """The case (a read, logged if sensitive: the form shows the incident's persons) and the types a case
    may be added of; 404 out of scope, 403 for those who may only read the case."""
    case = get_case(session, actor, case_id)
    if not may_handle_case(actor, case):
        raise Forbidden(Msg(N_("You may read this case but not change it.")))
    return case, related_case_types(session, actor, case)


# ---- manual links between cases of different incidents ----------------------------------------

def _link_pair(session: Session, actor: Actor, case_id: int, other_id: int) -> tuple[Case, Case]:
    """Both cases, if the actor may work the first and read the second (else 404: out of scope is absent)."""
    case = handled_case(session, actor, case_id)
    try:
        other = visible_case(session, actor, other_id)
    except NotFound:
        raise NotFound(N_("No such case.")) from None
    return case, other


def _find_link(session: Session, a: int, b: int) -> CaseLink | None:
    low, high = sorted((a, b))
    return session.scalar(select(CaseLink).where(CaseLink.case_id == low, CaseLink.linked_case_id == high))


def link_cases(session: Session, actor: Actor, case_id: int, other_id: int) -> Case:
    """Link two cases of different incidents (cases of one incident are linked anyway). Returns the other."""
    case, other = _link_pair(session, actor, case_id, other_id)
    return _link(session, actor, case, other)


def link_case_by_number(session: Session, actor: Actor, case_id: int, number: str) -> Case:
    """As link_cases, the other case named by its number as a person types it (UTBF-2026-00042-1). A number
    of no case and one of a case the actor may not read get the same message: nothing tells them apart."""
    case = handled_case(session, actor, case_id)
    errors = FieldErrors()
    number = number.strip().upper()
    other = None
    if not number:
        errors.add("case", N_("Give the number of the case, e.g. UTBF-2026-00042-1."))
    else:
        other = session.scalar(select(Case).where(Case.number == number, case_visibility(actor)))
        if other is None:
            errors.add("case", N_("No case you may read has this number."))
    errors.raise_if_any()
    return _link(session, actor, case, other)


def _link(session: Session, actor: Actor, case: Case, other: Case) -> Case:
    errors = FieldErrors()
    if other.id == case.id:
        errors.add("case", N_("A case cannot be linked to itself."))
    elif other.incident_id == case.incident_id:
        errors.add("case", N_("Cases of one event are linked already."))
    errors.raise_if_any()
    if _find_link(session, case.id, other.id) is not None:
        raise Conflict(Msg(N_("These cases are linked already.")))
    low, high = sorted((case.id, other.id))
    session.add(CaseLink(case_id=low, linked_case_id=high, created_by_id=actor.user_id))
    record(session, case, actor.user_id, "linked", field="links", new=other.number)
    record(session, other, actor.user_id, "linked", field="links", new=case.number)
    session.commit()
    return other


def unlink_cases(session: Session, actor: Actor, case_id: int, other_id: int) -> None:
    case, other = _link_pair(session, actor, case_id, other_id)
    link = _find_link(session, case.id, other.id)
    if link is None:
        raise NotFound(N_("These cases are not linked."))
    session.delete(link)
    record(session, case, actor.user_id, "unlinked", field="links", old=other.number)
    record(session, other, actor.user_id, "unlinked", field="links", old=case.number)
    session.commit()
