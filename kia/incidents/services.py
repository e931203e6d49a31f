"""Filing and reading incidents. Filing validates everything, then stores incident, persons and cases
in one transaction (nothing is half-stored) and allocates the registration number last, right before
the commit: the counter's row lock orders concurrent filings, so it is held as briefly as can be."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kia.access import Actor, may_file_on, record_visibility, subtree_ids
from kia.cases.models import Case, CaseState, Milestone, MilestoneKind
from kia.cases.notices import NewCaseNotices
from kia.cases.read_log import log_incident_read
from kia.cases.timeline import record
from kia.db import as_id, aware, insert_pending, utcnow
from kia.errors import N_, Conflict, FieldErrors, InvalidQuery, Msg, NotFound
from kia.geo import EVENT_POINT_RADIUS_M, checked_point, distance_m
from kia.incidents import personnummer
from kia.incidents.fields import validate_field_values
from kia.incidents.models import (
    IdempotencyKey, Incident, IncidentPerson, IncidentType, PersonCategory, PersonRole,
)
from kia.incidents.numbering import number_incident, provisional_number
from kia.orgs.models import OrgUnit
from kia.orgs.services import administration_in
from kia.deadlines.services import sync_obligations
from kia.reference import in_session, reference_data
from kia.routing.services import RoutingLookups, route_case

MAX_DESCRIPTION_LENGTH = 10_000
# Clocks on phones drift; a report a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class PersonInput:
    role: str
    category: str
    gender: str
    name: str | None = None
    class_name: str | None = None
    personal_number: str | None = None


@dataclass
class IncidentInput:
    type: str
    org_unit: str
    occurred_at: datetime
    description: str
    known_at: datetime | None = None
    location: str = ""
    persons: list[PersonInput] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    anonymous: bool = False
    latitude: float | None = None    # where on the site, optional: both or neither, near the unit
    longitude: float | None = None


def _aware(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def active_type(session: Session, code: str) -> IncidentType | None:
    """The active type with its fields, as this process keeps it (kia.reference): read it, and give a new row
    `in_session(session, …)` of it."""
    return reference_data(session).active_type(code)


def filing_units(session: Session, actor: Actor) -> list[OrgUnit]:
    """The active units `actor` may file on: those under any unit where they hold a role, in tree order (as this
    process keeps the tree: read them, give a new row `in_session(session, …)` of one)."""
    paths = tuple({g.unit_path for g in actor.grants})
    if not paths:
        return []
    return sorted((u for u in reference_data(session).units.values() if u.active and u.path.startswith(paths)),
                  key=lambda u: u.path)


@dataclass
class ValidatedReport:
    """A report that passed every rule, ready to be stored."""

    incident_type: IncidentType
    unit: OrgUnit
    administration: OrgUnit   # numbers the incident in its series
    persons: list[IncidentPerson]
    values: dict[str, Any]
    occurred_at: datetime
    known_at: datetime
    point: tuple[float, float] | None = None


def check_event_point(errors: FieldErrors, data: IncidentInput, unit: OrgUnit | None) -> tuple[float, float] | None:
    """The event's point, if given: a WGS84 point within EVENT_POINT_RADIUS_M of its unit's coordinates."""
    point = checked_point(errors, data.latitude, data.longitude)
    if point is None or unit is None:
        return point
    if not unit.has_coordinates:
        errors.add("latitude", N_("%(unit)s has no coordinates yet, so the point cannot be checked: leave it out."),
                   unit=unit.name)
        return None
    distance = distance_m(*point, unit.latitude, unit.longitude)
    if distance > EVENT_POINT_RADIUS_M:
        errors.add("latitude", N_("The point is %(distance)s m from %(unit)s: an event's point must be within "
                                  "%(radius)s m of its unit."),
                   distance=round(distance), unit=unit.name, radius=EVENT_POINT_RADIUS_M)
        return None
    return point


def person_from_input(person: PersonInput, position: int, path: str, errors: FieldErrors,
                      today: date) -> IncidentPerson:
    """A person of a report, or one added to the incident later (a related case); `path` names it in errors."""
    number = None
    if person.personal_number:
        try:
            number = personnummer.normalise(person.personal_number, today=today)
        except personnummer.InvalidPersonnummer:
            errors.add(f"{path}.personal_number",
                       N_("Not a valid personal identity number (personnummer or samordningsnummer)."))
    return IncidentPerson(
        position=position, role=PersonRole(person.role), category=PersonCategory(person.category),
        gender=person.gender, name=(person.name or "").strip() or None,
        class_name=(person.class_name or "").strip() or None, personal_number=number,
    )


def validate_report(session: Session, actor: Actor | None, data: IncidentInput, tz: ZoneInfo,
                    now: datetime) -> ValidatedReport:
    """Check every rule and raise all errors at once. `actor` None is an anonymous reporter
    without an account: only types that allow it, on any active unit."""
    errors = FieldErrors()
    reference = reference_data(session)
    incident_type = reference.active_type(data.type)
    if incident_type is None:
        errors.add("type", N_("Unknown event type: %(code)s."), code=data.type)
    chain = reference.active_unit_with_ancestors(data.org_unit)
    unit = chain[-1] if chain else None
    if unit is None:
        errors.add("org_unit", N_("Unknown org unit: %(code)s."), code=data.org_unit)
    elif actor is not None and not may_file_on(actor, unit):
        errors.add("org_unit", N_("You can only report events for units where you have a role."))

    point = check_event_point(errors, data, unit)
    occurred_at, known_at = _aware(data.occurred_at, tz), _aware(data.known_at, tz)
    if occurred_at > now + CLOCK_SKEW:
        errors.add("occurred_at", N_("The time of the event cannot be in the future."))
    if known_at is not None:
        if known_at < occurred_at:
            errors.add("known_at", N_("The school cannot have learned of the event before it happened."))
        elif known_at > now + CLOCK_SKEW:
            errors.add("known_at", N_("This time cannot be in the future."))
    if not data.description.strip():
        errors.add("description", N_("Describe what happened."))
    elif len(data.description) > MAX_DESCRIPTION_LENGTH:
        errors.add("description", N_("At most %(n)s characters."), n=MAX_DESCRIPTION_LENGTH)

    today = now.astimezone(tz).date()
    persons = [person_from_input(person, index, f"persons[{index}]", errors, today)
               for index, person in enumerate(data.persons)]

    values: dict[str, Any] = {}
    if incident_type is not None:
        values = validate_field_values(incident_type.fields, data.fields, errors, tz)
        if incident_type.case_per_affected_pupil and not _affected_pupils(persons):
            errors.add("persons", N_("Name at least one affected pupil: each gets a case of their own."))
        if (data.anonymous or actor is None) and not incident_type.allows_anonymous:
            errors.add("anonymous" if actor is not None else "type",
                       N_("This event type cannot be reported anonymously."))
    errors.raise_if_any()
    return ValidatedReport(incident_type, unit, administration_in(chain), persons, values, occurred_at,
                           known_at or occurred_at, point)


def _affected_pupils(persons: list[IncidentPerson]) -> list[IncidentPerson]:
    return [p for p in persons if p.role == PersonRole.AFFECTED and p.category == PersonCategory.PUPIL]


def _cases_for(incident: Incident, incident_type: IncidentType) -> list[Case]:
    subjects = _affected_pupils(incident.persons) if incident_type.case_per_affected_pupil else [None]
    # Numbered "<incident's number>-1", "-2", … once the incident's number is allocated.
    return [Case(number=f"{incident.number}-{index}", incident_type=incident_type, org_unit=incident.org_unit,
                 subject_person=subject) for index, subject in enumerate(subjects, start=1)]


_IDEMPOTENCY_KEY = select(IdempotencyKey.fingerprint, IdempotencyKey.incident_id).where(
    IdempotencyKey.user_id == bindparam("user_id"), IdempotencyKey.key == bindparam("key"))


def _replay(session: Session, actor: Actor, key: str, fingerprint: str) -> Incident | None:
    stored = session.execute(_IDEMPOTENCY_KEY, {"user_id": actor.user_id, "key": key}).first()
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise Conflict(Msg(N_("This Idempotency-Key was already used for a different request.")))
    return session.get(Incident, stored.incident_id)


def open_case(session: Session, case: Case, actor_id: int | None, tz: ZoneInfo, now: datetime,
              lookups: RoutingLookups | None = None) -> list[int]:
    """A new case's first steps, at filing or when a related case is added later: its timeline opened, routed
    (rules, substitutes, those informed; one filing's cases share their `lookups`), the handler's notice recorded,
    its deadlines started. Flushes nothing; returns the ids of those informed."""
    record(session, case, actor_id, "case_created", new=CaseState.RECEIVED)
    informed = route_case(session, case, now, lookups)
    if case.assignee_id is not None:
        # KIA itself tells the handler (rektor/chef) at once: that is the report to the principal.
        case.milestones.append(Milestone(kind=MilestoneKind.PRINCIPAL_NOTIFIED, at=now, reference="KIA"))
    sync_obligations(session, case, tz, now)
    return informed


@dataclass
class StoredReport:
    """A report written in full under a provisional number. `finish` numbers it and queues its notices:
    the caller adds what else belongs to the filing, calls `finish`, and commits at once."""

    incident: Incident
    administration: OrgUnit
    year: int
    notices: NewCaseNotices

    def finish(self, session: Session, now: datetime) -> Incident:
        session.flush()   # what the caller added is written before the counter's lock is taken
        number_incident(session, self.incident, self.administration, self.year)
        self.notices.queue(session, now)
        return self.incident


def store_report(session: Session, report: ValidatedReport, data: IncidentInput, tz: ZoneInfo, now: datetime,
                 reporter_id: int | None, also: Callable[[Incident], list] | None = None) -> StoredReport:
    """Write the incident, its persons and cases (routed, timelines opened, deadlines started) under a
    provisional number, with the new objects `also` gives for the incident (pointing at it: an anonymous
    report's follow-up code), and read who is to hear of the new cases. Then `finish`, and commit."""
    for person in report.persons:
        person.carry(report.incident_type.id, report.unit.id, report.occurred_at)
    incident = Incident(
        number=provisional_number(), incident_type=in_session(session, report.incident_type),
        org_unit=in_session(session, report.unit),
        occurred_at=report.occurred_at, known_at=report.known_at, reported_at=now,
        location=data.location.strip(), description=data.description.strip(), reporter_id=reporter_id,
        anonymous=reporter_id is None, field_values=report.values, persons=report.persons,
        latitude=report.point[0] if report.point else None, longitude=report.point[1] if report.point else None,
    )
    incident.cases = _cases_for(incident, incident.incident_type)
    # Nothing is flushed before everything is in place; routing and the look-ups below only read.
    with session.no_autoflush:
        session.add(incident)
        lookups = RoutingLookups()
        informed = [open_case(session, case, reporter_id, tz, now, lookups) for case in incident.cases]
        session.add_all(also(incident) if also else ())
    insert_pending(session, keep=incident)   # the cases' ids name them in the notices
    notices = NewCaseNotices.load(session, list(zip(incident.cases, informed)), also=reporter_id)
    if reporter_id in notices.audience.users:   # read with the recipients: the answer names them with no query
        set_committed_value(incident, "reporter", notices.audience.users[reporter_id])
    return StoredReport(incident, report.administration, now.astimezone(tz).year, notices)


def file_incident(session: Session, actor: Actor, data: IncidentInput, tz: ZoneInfo,
                  idempotency: tuple[str, str] | None = None,
                  now: datetime | None = None) -> tuple[Incident, bool]:
    """File an incident and create its cases. Returns (incident, created); with an idempotency
    (key, request fingerprint) already used by this user, returns the first incident and False."""
    now = now or utcnow()
    if data.anonymous:
        idempotency = None  # a stored key would tie the anonymous report to its reporter
    if idempotency and (earlier := _replay(session, actor, *idempotency)):
        return earlier, False

    report = validate_report(session, actor, data, tz, now)
    try:
        # The key is written with the incident's graph; a concurrent retry with the same key fails the graph.
        stored = store_report(session, report, data, tz, now, None if data.anonymous else actor.user_id, also=(
            lambda incident: [IdempotencyKey(user_id=actor.user_id, key=idempotency[0], fingerprint=idempotency[1],
                                             incident=incident)]) if idempotency else None)
        incident = stored.finish(session, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        if idempotency and (earlier := _replay(session, actor, *idempotency)):
            return earlier, False  # a concurrent retry with the same key won the race
        raise
    return incident, True


def get_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """The incident if `actor` may read it (404 otherwise); the read is written to the read log."""
    incident = session.scalar(select(Incident).where(
        Incident.id == incident_id,
        record_visibility(actor, Incident.org_unit_id, Incident.incident_type_id, Incident.reporter_id),
    ))
    if incident is None:
        raise NotFound(N_("No such incident."))
    log_incident_read(session, actor, incident)
    return incident


@dataclass
class IncidentFilter:
    type: str | None = None
    org_unit: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def encode_cursor(incident: Incident) -> str:
    raw = json.dumps([incident.occurred_at.isoformat(), incident.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, incident_id = json.loads(raw)
        return aware(datetime.fromisoformat(at)), as_id(incident_id)
    except (ValueError, TypeError) as exc:
        raise InvalidQuery({"cursor": [Msg(N_("Not a valid cursor."))]}) from exc


def list_incidents(session: Session, actor: Actor, query: IncidentFilter) -> tuple[list[Incident], str | None]:
    """Incidents the actor may read, newest first, a page at a time."""
    conditions = [record_visibility(actor, Incident.org_unit_id, Incident.incident_type_id, Incident.reporter_id)]
    errors = FieldErrors()
    if query.type:
        type_id = session.scalar(select(IncidentType.id).where(IncidentType.code == query.type))
        if type_id is None:
            errors.add("type", N_("Unknown event type: %(code)s."), code=query.type)
        conditions.append(Incident.incident_type_id == type_id)
    if query.org_unit:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == query.org_unit))
        if unit is None:
            errors.add("org_unit", N_("Unknown org unit: %(code)s."), code=query.org_unit)
        else:
            conditions.append(Incident.org_unit_id.in_(subtree_ids([unit.path])))
    if query.occurred_from:
        conditions.append(Incident.occurred_at >= query.occurred_from)
    if query.occurred_to:
        conditions.append(Incident.occurred_at < query.occurred_to)
    if query.cursor:
        at, last_id = decode_cursor(query.cursor)
        conditions.append(or_(Incident.occurred_at < at, and_(Incident.occurred_at == at, Incident.id < last_id)))
    errors.raise_if_any(InvalidQuery)
    rows = session.scalars(
        select(Incident).where(*conditions)
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())
        .limit(query.limit + 1)
    ).all()
    page = list(rows[: query.limit])
    next_cursor = encode_cursor(page[-1]) if len(rows) > query.limit else None
    return page, next_cursor
