"""The event map: a period's events of an org subtree counted per unit they were filed on, optionally of one type,
each count through the statistics' disclosure control (kia.stats.services.suppressed_table). Only aggregates leave,
placed at the units' coordinates: never an event's own point."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kia.access import Actor, subtree_ids
from kia.errors import N_, InvalidQuery, Msg
from kia.incidents.models import Incident, IncidentType
from kia.orgs.models import OrgUnit
from kia.stats.periods import Period, Scope, Tertial
from kia.stats.services import TOTAL, Count, readable_unit, suppressed_table


@dataclass(frozen=True)
class MapQuery:
    year: int
    tertial: int
    org_unit: str
    scope: Scope = Scope.PERIOD
    type: str | None = None          # an event type's code; None: every type


@dataclass(frozen=True)
class UnitCount:
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    count: Count

    @property
    def on_map(self) -> bool:
        """A marker only where the count is shown and the unit has coordinates."""
        return not self.count.suppressed and self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class EventMap:
    org_unit: OrgUnit
    period: Period
    incident_type: IncidentType | None
    threshold: int
    units: list[UnitCount]           # every unit of the subtree with events in the period, by name
    total: Count

    def markers(self) -> list[dict]:
        """What the map's script draws: the units shown with coordinates and their counts (no hidden count)."""
        return [{"code": u.code, "name": u.name, "lat": u.latitude, "lon": u.longitude, "count": u.count.value}
                for u in self.units if u.on_map]


def event_map(session: Session, actor: Actor, query: MapQuery, tz: ZoneInfo, threshold: int) -> EventMap:
    """By the statistics' access rules: the scope statistics:read, a statistics role over the unit (else NotFound)."""
    actor.require_scope("statistics:read")
    root = readable_unit(session, actor, query.org_unit)
    incident_type = None
    if query.type:
        incident_type = session.scalar(select(IncidentType).where(IncidentType.code == query.type))
        if incident_type is None:
            raise InvalidQuery({"type": [Msg(N_("Unknown event type: %(code)s."), {"code": query.type})]})
    period = Period.of(Tertial(query.year, query.tertial), query.scope, tz)
    conditions = [Incident.occurred_at >= period.start, Incident.occurred_at < period.end,
                  Incident.org_unit_id.in_(subtree_ids([root.path]))]
    if incident_type is not None:
        conditions.append(Incident.incident_type_id == incident_type.id)
    found = dict(session.execute(select(Incident.org_unit_id, func.count()).where(*conditions)
                                 .group_by(Incident.org_unit_id)).all())
    table = suppressed_table({(unit_id,): n for unit_id, n in found.items()}, 1, threshold)
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(found))).all() if found else []
    rows = sorted((UnitCount(u.code, u.name, u.latitude, u.longitude, table[("cell", (u.id,))]) for u in units),
                  key=lambda row: (row.name, row.code))
    return EventMap(root, period, incident_type, threshold, rows, table[TOTAL])
