"""Counts per group, computed by the database (GROUP BY): incidents, affected persons or cases of an
org subtree in a period. Nothing here loads an incident."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import aliased

from kia.access import subtree_ids
from kia.cases.models import Case
from kia.enums import StrEnum
from kia.errors import N_, InvalidQuery, Msg
from kia.incidents.models import Incident, IncidentPerson, IncidentType, PersonRole
from kia.orgs.models import OrgUnit

GROUP_KEYS = ("type", "unit", "category", "gender", "person_category", "state")
INCIDENT_KEYS = frozenset({"type", "unit", "category"})
PERSON_KEYS = frozenset({"gender", "person_category"})
CASE_KEYS = frozenset({"state"})


class Measure(StrEnum):
    INCIDENTS = "incidents"
    AFFECTED_PERSONS = "affected_persons"  # gender and person category are properties of persons
    CASES = "cases"                        # state is a property of cases: those opened in the period


def measure_for(keys: tuple[str, ...]) -> Measure:
    """What a table grouped by `keys` counts. Persons and cases cannot be crossed: a case is not
    a person, and counting (case, person) pairs would mean nothing."""
    if PERSON_KEYS & set(keys) and CASE_KEYS & set(keys):
        raise InvalidQuery({"group_by": [Msg(N_(
            "state counts cases and gender/person_category count persons: group by one or the other."))]})
    if PERSON_KEYS & set(keys):
        return Measure.AFFECTED_PERSONS
    return Measure.CASES if CASE_KEYS & set(keys) else Measure.INCIDENTS


@dataclass(frozen=True)
class Selection:
    """What to count: the subtree of `root`, grouped by `keys` (type and unit come back as ids)."""

    root: OrgUnit
    keys: tuple[str, ...]

    @property
    def measure(self) -> Measure:
        return measure_for(self.keys)


def child_of(root: OrgUnit):
    """(unit_id, group_id) for every unit under `root`: the direct child of `root` whose subtree holds
    the unit, or `root` itself for incidents filed on it directly."""
    unit, child = aliased(OrgUnit), aliased(OrgUnit)
    return (
        select(unit.id.label("unit_id"), func.coalesce(child.id, root.id).label("group_id"))
        .select_from(unit)
        .outerjoin(child, and_(child.parent_id == root.id, unit.path.like(child.path + "%")))
        .where(unit.path.like(root.path + "%"))
        .subquery("child_of")
    )


def grouped(selection: Selection, start: datetime, end: datetime, *values: ColumnElement[Any],
            keys: tuple[str, ...] | None = None, over_cases: bool = False) -> Select:
    """SELECT <keys>, <values> grouped by `keys` (default: the selection's), over the selection's
    incidents that occurred in [start, end) – or over its cases opened in [start, end) when the measure
    is cases or `over_cases` (case figures): cases carry their own type and unit, so no join is needed
    and each side is one range scan of a covering index."""
    keys = selection.keys if keys is None else keys
    over_cases = over_cases or selection.measure == Measure.CASES
    over_persons = not over_cases and selection.measure == Measure.AFFECTED_PERSONS
    # Persons carry their incident's type, unit and time: counting them needs no join with the incidents.
    base = Case if over_cases else IncidentPerson if over_persons else Incident
    statement = select().select_from(base)
    moment = base.created_at if over_cases else base.occurred_at
    conditions = [moment >= start, moment < end]
    columns: dict[str, ColumnElement[Any]] = {"type": base.incident_type_id}
    if "unit" in keys:
        mapping = child_of(selection.root)
        statement = statement.join(mapping, mapping.c.unit_id == base.org_unit_id)
        columns["unit"] = mapping.c.group_id
    else:
        conditions.append(base.org_unit_id.in_(subtree_ids([selection.root.path])))
    if "category" in keys:
        statement = statement.join(IncidentType, IncidentType.id == base.incident_type_id)
        columns["category"] = IncidentType.category
    if over_cases:
        columns["state"] = Case.state
    elif over_persons:
        conditions.append(IncidentPerson.role == PersonRole.AFFECTED)
        columns.update(gender=IncidentPerson.gender, person_category=IncidentPerson.category)
    key_columns = [columns[key].label(key) for key in keys]
    return statement.add_columns(*key_columns, *values).where(*conditions).group_by(*key_columns)


def counts(session, selection: Selection, start: datetime, end: datetime) -> dict[tuple, int]:
    """The measure's count per key tuple (groups with no rows are absent: they are zero)."""
    statement = grouped(selection, start, end, func.count().label("n"))
    width = len(selection.keys)
    return {tuple(plain(v) for v in row[:width]): row[width] for row in session.execute(statement)}


def plain(value):
    return value.value if isinstance(value, StrEnum) else value
