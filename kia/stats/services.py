"""Tertial statistics of an org subtree: counts per group with comparisons and case figures, every
published count through disclosure control. Only aggregates leave this module."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.access.statistics import may_read_statistics
from kia.db import utcnow
from kia.errors import N_, NotFound
from kia.incidents.models import IncidentType
from kia.orgs.models import OrgUnit
from kia.stats.aggregate import Measure, Selection, counts, measure_for
from kia.stats.case_figures import CASE_FIGURES, PENDING_CASE_FIGURES, case_figures
from kia.stats.periods import Period, Scope, Tertial
from kia.stats.suppression import suppress, table_equations

COMPARISONS = ("previous", "last_year")
TOTAL = ("total",)


@dataclass(frozen=True)
class StatisticsQuery:
    year: int
    tertial: int
    org_unit: str
    scope: Scope = Scope.PERIOD
    group_by: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()
    case_figures: bool = True  # False: counts only, one query less per period


@dataclass(frozen=True)
class Count:
    """A published count: `value` is None when suppressed."""

    value: int | None
    suppressed: bool = False


@dataclass
class Row:
    key: dict[str, str]                      # group key -> code (empty for the grand total)
    count: Count
    compared: dict[str, Count] = field(default_factory=dict)
    case_figures: dict[str, float | None] = field(default_factory=dict)

    def change(self, comparison: str) -> int | None:
        other = self.compared.get(comparison)
        if other is None or self.count.suppressed or other.suppressed:
            return None
        return self.count.value - other.value


@dataclass
class Report:
    org_unit: OrgUnit
    period: Period
    comparisons: dict[str, Period]
    group_by: tuple[str, ...]
    measure: Measure
    threshold: int
    rows: list[Row]                          # one per group with a count in any period
    subtotals: dict[str, list[Row]]          # per key, when grouped by two keys or more
    total: Row
    labels: dict[str, dict[str, str]]        # key -> code -> name (types, units)
    case_figures: tuple[str, ...] = tuple(CASE_FIGURES)
    pending_case_figures: tuple[str, ...] = PENDING_CASE_FIGURES


def readable_unit(session: Session, actor: Actor, code: str) -> OrgUnit:
    """The unit, if the actor may read its statistics; unknown and out of reach look the same."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not may_read_statistics(actor, unit):
        raise NotFound(N_("No such org unit."))
    return unit


def published(values: dict, hidden: set) -> dict:
    return {cell: Count(None, True) if cell in hidden else Count(value) for cell, value in values.items()}


def suppressed_table(cells: dict[tuple, int], dimensions: int, threshold: int) -> dict:
    """Every count the table publishes (cells, subtotals, total), with disclosure control applied."""
    values, equations = table_equations(cells, dimensions)
    return published(values, suppress(values, equations, threshold))


def tertial_statistics(session: Session, actor: Actor, query: StatisticsQuery, tz: ZoneInfo,
                       threshold: int, now: datetime | None = None) -> Report:
    actor.require_scope("statistics:read")
    return statistics_of(session, readable_unit(session, actor, query.org_unit), query, tz, threshold, now)


def statistics_of(session: Session, root: OrgUnit, query: StatisticsQuery, tz: ZoneInfo, threshold: int,
                  now: datetime | None = None) -> Report:
    """tertial_statistics of a unit that readable_unit has already let the actor read (query.org_unit is
    not looked up again): for a page of several tables of one unit."""
    measure = measure_for(query.group_by)
    tertial = Tertial(query.year, query.tertial)
    period = Period.of(tertial, query.scope, tz)
    comparisons = {name: period.shifted(_compared(tertial, name), tz) for name in query.compare}
    selection = Selection(root, query.group_by)

    raw = {name: counts(session, selection, p.start, p.end)
           for name, p in {"current": period, **comparisons}.items()}
    names = _labels(session, query.group_by, set().union(*raw.values()))
    codes = {key: {value: code for value, (code, _) in names.get(key, {}).items()} for key in query.group_by}

    def key_of(values: tuple) -> dict[str, str]:
        return {k: codes[k].get(v, v) for k, v in zip(query.group_by, values)}

    keys = sorted(set().union(*raw.values()), key=lambda k: tuple(key_of(k).values()))
    dims = len(query.group_by)
    tables = {name: suppressed_table({k: found.get(k, 0) for k in keys}, dims, threshold)
              for name, found in raw.items()}

    def row(cell, key: dict[str, str]) -> Row:
        return Row(key, tables["current"][cell], {name: tables[name][cell] for name in comparisons})

    rows = [row(("cell", k), key_of(k)) for k in keys] if dims else []
    subtotals = {}
    if dims >= 2:
        for index, key in enumerate(query.group_by):
            values = sorted({k[index] for k in keys}, key=lambda v: str(codes[key].get(v, v)))
            subtotals[key] = [row(("margin", index, v), {key: codes[key].get(v, v)}) for v in values]
    total = row(TOTAL, {})
    if query.case_figures:
        _attach_case_figures(session, selection, period, measure, threshold, rows, keys, total, now or utcnow())
    labels = {key: {code: name for code, name in names[key].values()} for key in names}
    return Report(root, period, comparisons, query.group_by, measure, threshold, rows, subtotals, total, labels,
                  case_figures=tuple(CASE_FIGURES) if query.case_figures else ())


def _compared(tertial: Tertial, name: str) -> Tertial:
    return tertial.previous() if name == "previous" else tertial.last_year()


def _attach_case_figures(session, selection, period, measure, threshold, rows, keys, total, now) -> None:
    """Case figures per row when rows count incidents (cases carry the incident's type and unit), and
    for the whole table; each only where the row's count is shown and rests on `threshold` cases."""
    per_row = measure == Measure.INCIDENTS and rows
    by_key, overall = case_figures(session, selection if per_row else Selection(selection.root, ()),
                                   period.start, period.end, now)
    targets = [(total, overall)] + ([(r, by_key.get(k, {})) for r, k in zip(rows, keys)] if per_row else [])
    for row, figures in targets:
        for name in CASE_FIGURES:
            figure = figures.get(name)
            visible = figure is not None and not row.count.suppressed and figure.basis >= threshold
            row.case_figures[name] = figure.value if visible else None


def _labels(session: Session, group_by: tuple[str, ...], keys: set[tuple]) -> dict[str, dict]:
    """For type and unit keys (ids in SQL): id -> (code, name), in one round trip."""
    wanted = {key: {k[index] for k in keys} for index, key in enumerate(group_by) if key in ("type", "unit")}
    if not wanted:
        return {}
    parts = []
    if "type" in wanted:
        parts.append(select(literal("type"), IncidentType.id, IncidentType.code, IncidentType.name_sv)
                     .where(IncidentType.id.in_(wanted["type"])))
    if "unit" in wanted:
        parts.append(select(literal("unit"), OrgUnit.id, OrgUnit.code, OrgUnit.name)
                     .where(OrgUnit.id.in_(wanted["unit"])))
    labels: dict[str, dict] = {key: {} for key in wanted}
    for key, id_, code, name in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        labels[key][id_] = (code, name)
    return labels
