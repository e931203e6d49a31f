"""KIA's read-only Open311 GeoReport v2 view of its events: the non-confidential event types as services, and their
events as service requests, anonymised. A request carries its type, whether its cases are still open, the day it was
reported and its unit's name and coordinates – never a name, a description, a field's value, an exact time or the
event's own point. And it is published only when its unit had at least `threshold` events of its type reported in
the same tertial (kia.stats.suppression's rule for small counts): a school's single break-in stays unlisted, and a
window chosen to isolate one event changes nothing, since the tertial, not the window, is counted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from kia.cases.models import OPEN_STATES, Case
from kia.errors import N_, InvalidQuery, Msg
from kia.incidents.models import Incident, IncidentType
from kia.orgs.models import OrgUnit
from kia.stats.periods import Period, Scope, Tertial
from kia.stats.suppression import suppress

MAX_WINDOW = timedelta(days=90)    # GeoReport v2: the default window, and the longest one served
MAX_REQUESTS = 1000


@dataclass(frozen=True)
class ServiceRequest:
    id: int
    service_code: str
    service_name: str
    status: str                    # "open" while any of its cases is, else "closed"
    requested_on: date             # the local day it was reported
    address: str                   # the unit's name
    latitude: float
    longitude: float


def services(session: Session) -> list[IncidentType]:
    """The services: the active event types that are not confidential."""
    return list(session.scalars(select(IncidentType).where(IncidentType.active.is_(True),
                                                           IncidentType.confidential.is_(False))
                                .order_by(IncidentType.category, IncidentType.code)))


def _published(session: Session):
    """Incidents of non-confidential types on units with coordinates, with what a request shows."""
    is_open = exists().where(Case.incident_id == Incident.id, Case.state.in_(OPEN_STATES))
    return (select(Incident.id, Incident.reported_at, Incident.org_unit_id, Incident.incident_type_id,
                   IncidentType.code, IncidentType.name_sv, OrgUnit.name, OrgUnit.latitude, OrgUnit.longitude,
                   is_open.label("is_open"))
            .join(IncidentType, IncidentType.id == Incident.incident_type_id)
            .join(OrgUnit, OrgUnit.id == Incident.org_unit_id)
            .where(IncidentType.confidential.is_(False), OrgUnit.latitude.is_not(None), OrgUnit.longitude.is_not(None)))


def _hidden_groups(session: Session, tertials: set[Tertial], tz: ZoneInfo, threshold: int) -> set[tuple]:
    """(tertial, unit id, type id) with 1 to threshold−1 reports in the tertial: their events are not published."""
    values = {}
    for tertial in tertials:
        period = Period.of(tertial, Scope.PERIOD, tz)
        rows = session.execute(select(Incident.org_unit_id, Incident.incident_type_id, func.count())
                               .where(Incident.reported_at >= period.start, Incident.reported_at < period.end)
                               .group_by(Incident.org_unit_id, Incident.incident_type_id))
        values.update({(tertial, unit, kind): n for unit, kind, n in rows})
    return suppress(values, [], threshold)


def _requests(session: Session, statement, tz: ZoneInfo, threshold: int) -> list[ServiceRequest]:
    rows = session.execute(statement).all()
    days = {row.id: _aware(row.reported_at).astimezone(tz).date() for row in rows}
    hidden = _hidden_groups(session, {Tertial.containing(day) for day in days.values()}, tz, threshold)
    return [ServiceRequest(row.id, row.code, row.name_sv, "open" if row.is_open else "closed", days[row.id],
                           row.name, row.latitude, row.longitude)
            for row in rows
            if (Tertial.containing(days[row.id]), row.org_unit_id, row.incident_type_id) not in hidden]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def service_requests(session: Session, tz: ZoneInfo, threshold: int, now: datetime, service_codes: tuple[str, ...] = (),
                     start: datetime | None = None, end: datetime | None = None,
                     statuses: tuple[str, ...] = ()) -> list[ServiceRequest]:
    """The published requests reported in [start, end) (default: the 90 days up to now), newest first, at most
    MAX_REQUESTS."""
    end = end or now
    start = start or end - MAX_WINDOW
    if start >= end:
        raise InvalidQuery({"start_date": [Msg(N_("start_date must be before end_date."))]})
    if end - start > MAX_WINDOW:
        raise InvalidQuery({"start_date": [Msg(N_("At most 90 days between start_date and end_date."))]})
    unknown = [s for s in statuses if s not in ("open", "closed")]
    if unknown:
        raise InvalidQuery({"status": [Msg(N_("status is open or closed."))]})
    statement = _published(session).where(Incident.reported_at >= start, Incident.reported_at < end)
    if service_codes:
        statement = statement.where(IncidentType.code.in_(service_codes))
    found = _requests(session, statement.order_by(Incident.reported_at.desc(), Incident.id.desc()), tz, threshold)
    if statuses:
        found = [r for r in found if r.status in statuses]
    return found[:MAX_REQUESTS]


def service_request(session: Session, tz: ZoneInfo, threshold: int, request_id: int) -> ServiceRequest | None:
    """The one request, if it is published (else None: unknown, confidential, unplaced and withheld look alike)."""
    found = _requests(session, _published(session).where(Incident.id == request_id), tz, threshold)
    return found[0] if found else None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)
